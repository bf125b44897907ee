"""The catalog's HTTP routes: MSMEs, products and the regions an MSME's city may name."""

from __future__ import annotations

from services.catalog.api.msmes import (
    add_certification,
    get_msme,
    list_msmes,
    list_product,
    register_msme,
    update_msme,
)
from services.catalog.api.plots import ROUTES as PLOT_ROUTES
from services.catalog.api.products import declare_capacity, get_product, search_products, update_product
from services.catalog.api.regions import list_regions

ROUTES = [
    register_msme,
    list_msmes,
    get_msme,
    update_msme,
    add_certification,
    list_product,
    get_product,
    update_product,
    declare_capacity,
    search_products,
    list_regions,
    *PLOT_ROUTES,
]
