"""The catalog service: MSMEs, their certifications, products and monthly capacity, and product search."""

from __future__ import annotations

from events.catalog import CODEC
from services.catalog.handlers import COMMITTED_CAPACITY
from services.catalog.msme_routes import add_certification, get_msme, list_product, register_msme, update_msme
from services.catalog.product_routes import declare_capacity, get_product, search_products, update_product
from services.catalog.projections import CATALOG
from services.catalog.region_routes import list_regions
from services.catalog.tables import MIGRATIONS, PUBLISHED_STANDARDS
from shared.service import Service

service = Service(
    name="catalog",
    codec=CODEC,
    routes=[
        register_msme,
        get_msme,
        update_msme,
        add_certification,
        list_product,
        get_product,
        update_product,
        declare_capacity,
        search_products,
        list_regions,
    ],
    migrations=MIGRATIONS,
    projections=[CATALOG],
    subscriptions=[COMMITTED_CAPACITY, PUBLISHED_STANDARDS.subscription],
)
