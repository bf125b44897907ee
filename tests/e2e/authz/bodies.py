"""Minimal valid request bodies: the seed uses them, and the matrix sends them again on its own objects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

RATTAN = "460219"


def months_ahead(count: int) -> list[str]:
    """The ``count`` calendar months after this one (capacity is declared for future months only)."""
    today = datetime.now(UTC).date()
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        months.append(f"{year:04d}-{month:02d}")
    return months


def version_body() -> dict[str, Any]:
    """The content of a standard version: one visual check and the AQL of its defect class."""
    return {
        "checks": [{"name": "even weave", "kind": "visual", "defect_class": "major"}],
        "defect_classes": [{"defect_class": "major", "aql": "1.0"}],
    }


def standard_body(name: str, publish: bool = True) -> dict[str, Any]:
    described = {"name": name, "description": "Hand-woven natural rattan basket, EU retail grade"}
    return described | version_body() | {"publish": publish}


def msme_body(name: str, nib: str, email: str, org: str) -> dict[str, Any]:
    return {
        "name": name,
        "nib": nib,
        "province": "Jawa Barat",
        "city": "Cirebon",
        "contact": {"name": "Siti Rahayu", "email": email},
        "size_class": "small",
        "org": org,
    }


def product_body(sku: str, hs_code: str, standard_id: str | None) -> dict[str, Any]:
    standards = [{"standard_id": standard_id, "version": 1}] if standard_id else []
    return {
        "sku": sku,
        "name": "Round rattan basket 30 cm",
        "hs_code": hs_code,
        "category": "handicraft",
        "unit": "PCE",
        "moq": 1,
        "price_tiers": [{"min_quantity": 1, "unit_price": {"amount": "4.00", "currency": "USD"}}],
        "lead_time_days": 14,
        "standards": standards,
    }


def buyer_body(name: str, email: str) -> dict[str, Any]:
    return {"name": name, "country": "NL", "contacts": [{"name": "Anke de Vries", "email": email}]}


def order_body(standard_id: str, notes: str, hs_codes: tuple[str, ...] = (RATTAN,)) -> dict[str, Any]:
    line = {
        "category": "handicraft",
        "description": "round rattan basket, 30 cm",
        "standard_id": standard_id,
        "standard_version": 1,
        "quantity": 100,
        "unit": "PCE",
        "target_unit_price": {"amount": "5.00", "currency": "USD"},
    }
    return {
        "lines": [line | {"hs_code": hs} for hs in hs_codes],
        "incoterm": "FOB",
        "destination_country": "NL",
        "destination_port": "NLRTM",
        "required_by": (datetime.now(UTC).date() + timedelta(days=150)).isoformat(),
        "notes": notes,
    }


def quote_body(line_ids: Iterable[str]) -> dict[str, Any]:
    """An aggregator's quote: a price for every line, valid for a week."""
    price = {"amount": "6.00", "currency": "USD"}
    return {
        "lines": [{"line_id": line_id, "unit_price": price} for line_id in line_ids],
        "lead_time_days": 30,
        "valid_until": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }


def pool_body(name: str, standard_id: str, hs_code: str = RATTAN) -> dict[str, Any]:
    return {
        "name": name,
        "hs_code": hs_code,
        "standard_id": standard_id,
        "standard_version": 1,
        "unit": "PCE",
        "currency": "USD",
        "consolidation_point": "Semarang",
    }


def first_article_body(msme_id: str, product_id: str, standard_id: str) -> dict[str, Any]:
    return {
        "kind": "first_article",
        "msme_id": msme_id,
        "product_id": product_id,
        "standard_id": standard_id,
        "standard_version": 1,
        "sample_size": 5,
    }


def plot_body(name: str) -> dict[str, Any]:
    """A small coffee plot near Cirebon, as a Point with its declared area."""
    return {
        "name": name,
        "country": "ID",
        "region": "Jawa Barat",
        "commodity": "coffee",
        "geometry": {"type": "Point", "coordinates": [108.55, -6.73]},
        "area_hectares": "1.5",
    }
