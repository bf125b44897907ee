"""Seeding the demo's marketplace over HTTP: standards, buyers, MSMEs with products and capacity, qualification."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from demo.client import Marketplace, Person, Progress, in_parallel
from demo.data import BUYERS, CRAFTS, RATTAN, Producer, months_ahead
from shared.auth import Role

INSPECTOR_ORG = "mutu-nusantara-qc"
AGGREGATOR_ORG = "nusantara-trading"
CAPACITY_MONTHS = 3


@dataclass
class Supplier:
    """A registered MSME: who it is, the product it listed, and the person who answers for it."""

    producer: Producer
    person: Person
    msme_id: UUID
    product_id: UUID


@dataclass
class Cast:
    """Everyone the demo acts as."""

    inspector: Person
    aggregator: Person
    buyers: dict[str, Person]
    standards: dict[str, UUID] = field(default_factory=dict)
    suppliers: dict[UUID, Supplier] = field(default_factory=dict)

    def weavers(self) -> list[Supplier]:
        return [s for s in self.suppliers.values() if s.producer.craft is RATTAN]


def cast_of(market: Marketplace) -> Cast:
    return Cast(
        inspector=market.person(Role.INSPECTOR, INSPECTOR_ORG, "rini"),
        aggregator=market.person(Role.AGGREGATOR, AGGREGATOR_ORG, "ana"),
        buyers={b.org: market.person(Role.BUYER, b.org, b.contact.split()[0].lower()) for b in BUYERS},
    )


async def publish_standards(market: Marketplace, cast: Cast, run: str) -> None:
    """The inspector publishes one standard per craft (named for this run, so runs never share pools)."""

    async def publish(key: str, body: dict[str, Any]) -> None:
        created = await market.post("/v1/standards", cast.inspector, {**body, "name": f"{body['name']} ({run})"})
        cast.standards[key] = UUID(created["id"])

    async with asyncio.TaskGroup() as group:
        for craft in CRAFTS:
            group.create_task(publish(craft.key, craft.standard))


async def register_buyers(market: Marketplace, cast: Cast) -> int:
    """Each buyer organisation registers once; a later run finds it registered (409) and goes on."""
    registered = 0
    for buyer in BUYERS:
        body = {
            "name": buyer.name,
            "country": buyer.country,
            "contacts": [{"name": buyer.contact, "email": buyer.email, "title": "Sourcing manager"}],
        }
        response = await market.call("POST", "/v1/buyers", cast.buyers[buyer.org], body, accept=(201, 409))
        registered += response.status_code == 201
    return registered


async def register_msmes(market: Marketplace, cast: Cast, producers: list[Producer], today: date) -> None:
    """Every MSME registers itself, records its certificate, lists its product and declares capacity."""
    months = months_ahead(f"{today:%Y-%m}", CAPACITY_MONTHS)

    async def register(producer: Producer) -> None:
        person = market.person(Role.MSME, producer.org, producer.contact.split()[0].lower())
        msme = await market.post("/v1/msmes", person, _msme_body(producer))
        msme_id = msme["id"]
        craft = producer.craft
        if craft.certification:
            certificate = {
                "kind": craft.certification,
                "number": f"{craft.certification.upper()}-{producer.nib[-6:]}",
                "issuer": "LSPro Nusantara",
                "valid_from": (today - timedelta(days=200)).isoformat(),
                "valid_until": (today + timedelta(days=900)).isoformat(),
            }
            await market.post(f"/v1/msmes/{msme_id}/certifications", person, certificate)
        product = await market.post(f"/v1/msmes/{msme_id}/products", person, _product_body(producer, cast))
        capacity = {"months": {month: producer.monthly_units for month in months}}
        await market.put(f"/v1/products/{product['id']}/capacity", person, capacity)
        cast.suppliers[UUID(msme_id)] = Supplier(producer, person, UUID(msme_id), UUID(product["id"]))

    await in_parallel(producers, register, Progress("MSMEs registered", len(producers)))


def _msme_body(producer: Producer) -> dict[str, Any]:
    return {
        "name": producer.name,
        "nib": producer.nib,
        "province": producer.province,
        "city": producer.city,
        "size_class": producer.size_class,
        "contact": {"name": producer.contact, "phone": producer.phone},
    }


def _product_body(producer: Producer, cast: Cast) -> dict[str, Any]:
    craft = producer.craft
    volume_price = (producer.price * Decimal("0.95")).quantize(Decimal("0.01"))
    return {
        "sku": producer.sku,
        "name": producer.product,
        "hs_code": craft.hs_code,
        "category": craft.category,
        "unit": craft.unit,
        "moq": producer.moq,
        "price_tiers": [
            {"min_quantity": 1, "unit_price": {"amount": str(producer.price), "currency": "USD"}},
            {"min_quantity": producer.moq * 4, "unit_price": {"amount": str(volume_price), "currency": "USD"}},
        ],
        "lead_time_days": producer.lead_time_days,
        "standards": [{"standard_id": str(cast.standards[craft.key]), "version": 1}],
        "origin_plots": [_plot(producer.plot)] if producer.plot else [],
    }


def _plot(plot: tuple[str, float, float]) -> dict[str, Any]:
    name, longitude, latitude = plot
    return {"name": name, "area_hectares": "2.5", "geometry": {"type": "Point", "coordinates": [longitude, latitude]}}


async def qualify_weavers(market: Marketplace, cast: Cast) -> tuple[list[Supplier], list[Supplier]]:
    """The inspector checks a first article of every rattan weaver; one shows a defect and is not qualified."""
    weavers = sorted(cast.weavers(), key=lambda s: s.producer.org)
    standard = cast.standards[RATTAN.key]
    failing = weavers[-1]

    async def inspect(weaver: Supplier) -> bool:
        opened = await market.post(
            "/v1/inspections",
            cast.inspector,
            {
                "kind": "first_article",
                "msme_id": str(weaver.msme_id),
                "standard_id": str(standard),
                "standard_version": 1,
                "product_id": str(weaver.product_id),
                "sample_size": 5,
            },
        )
        defects = {"critical": 0, "major": 1 if weaver is failing else 0, "minor": 0}
        results = {"defects": defects, "measurements": [{"attribute": "diameter", "values": ["29.6", "30.2", "30.4"]}]}
        judged = await market.post(f"/v1/inspections/{opened['id']}/results", cast.inspector, results)
        accepted: bool = judged["verdict"]["accepted"]
        return accepted

    verdicts = await in_parallel(weavers, inspect, Progress("first articles inspected", len(weavers)))
    approved = [w for w, ok in zip(weavers, verdicts, strict=True) if ok]
    rejected = [w for w, ok in zip(weavers, verdicts, strict=True) if not ok]
    return approved, rejected
