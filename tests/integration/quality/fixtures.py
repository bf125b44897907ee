"""Quality's HTTP tests: the callers they meet, a standard inspectors use, and helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from events.catalog import CODEC as CATALOG
from events.catalog import Contact, MsmeRegistered, MsmeUpdated
from shared import bus
from shared.auth import Role
from shared.config import Settings
from shared.eventstore import Metadata, RecordedEvent
from shared.kernel.ids import new_id
from shared.relay import event_headers
from tests.support.app import token

Client = AsyncTestClient[Litestar]

INSPECTOR = token(Role.INSPECTOR, org="sucofindo-qc", sub="rina")
OTHER_INSPECTOR = token(Role.INSPECTOR, org="bureau-qc", sub="joris")
ADMIN = token(Role.ADMIN, org="gotong", sub="root")
BUYER = token(Role.BUYER, org="rotterdam-home", sub="anke")
AGGREGATOR = token(Role.AGGREGATOR, org="nusantara-trade", sub="budi")
MSME_USER = token(Role.MSME, org="cirebon-rattan", sub="siti")
OTHER_MSME_USER = token(Role.MSME, org="jepara-teak", sub="agus")
POOL_ID = UUID("01890000-0000-7000-8000-00000000f001")


def basket_standard(**changes: Any) -> dict[str, Any]:
    """Rattan round basket 30 cm, EU retail grade, as an inspector would send it."""
    body: dict[str, Any] = {
        "name": "Rattan round basket 30 cm, EU retail grade",
        "description": "Hand-woven natural rattan, round, 30 cm diameter",
        "attributes": [
            {"name": "diameter", "unit": "cm", "nominal": "30", "lower_tolerance": "0.5", "upper_tolerance": "0.5"},
            {
                "name": "moisture",
                "unit": "%",
                "nominal": "12",
                "lower_tolerance": "12",
                "upper_tolerance": "3",
                "defect_class": "critical",
            },
        ],
        "checks": [
            {"name": "no mould", "kind": "visual", "defect_class": "critical"},
            {"name": "handle holds 5 kg", "kind": "functional", "defect_class": "major"},
            {"name": "even weave", "kind": "visual", "defect_class": "minor"},
        ],
        "defect_classes": [
            {"defect_class": "critical", "aql": "0.065"},
            {"defect_class": "major", "aql": "1.0"},
            {"defect_class": "minor", "aql": "4.0"},
        ],
        "inspection_level": "II",
        "qualification_lots": 2,
        "references": [{"title": "Golden sample", "url": "https://example.org/basket.jpg"}],
    }
    body.update(changes)
    return body


def version_body(**changes: Any) -> dict[str, Any]:
    """The basket standard's content as a version (no name or description)."""
    body = basket_standard(**changes)
    del body["name"], body["description"]
    return body


async def published_standard(client: Client, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v1/standards", json=basket_standard(publish=True, **changes), headers=INSPECTOR)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_lot(
    client: Client, standard: dict[str, Any], msme_id: UUID, *, lot_size: int = 500, **changes: Any
) -> dict[str, Any]:
    """Open an inspection of a fresh lot of ``msme_id`` against version 1 of ``standard``."""
    body = {
        "msme_id": str(msme_id),
        "standard_id": standard["id"],
        "standard_version": 1,
        "lot_id": str(new_id()),
        "pool_id": str(POOL_ID),
        "lot_size": lot_size,
        **changes,
    }
    response = await client.post("/v1/inspections", json=body, headers=INSPECTOR)
    assert response.status_code == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened


async def record(
    client: Client, inspection: dict[str, Any], critical: int = 0, major: int = 0, minor: int = 0, **changes: Any
) -> dict[str, Any]:
    body = {"defects": {"critical": critical, "major": major, "minor": minor}, **changes}
    response = await client.post(f"/v1/inspections/{inspection['id']}/results", json=body, headers=INSPECTOR)
    assert response.status_code == 201, response.text
    judged: dict[str, Any] = response.json()
    return judged


async def inspect_lot(
    client: Client, standard: dict[str, Any], msme_id: UUID, *, major: int = 0, **changes: Any
) -> dict[str, Any]:
    """Open a lot and record its results: ``major`` defects, nothing else."""
    return await record(client, await open_lot(client, standard, msme_id, **changes), major=major)


async def publish_catalog_event(settings: Settings, event: MsmeRegistered | MsmeUpdated, version: int) -> None:
    """Publish a catalog event on catalog's JetStream stream with the headers catalog's relay gives it."""
    name, schema_version = CATALOG.name_of(event)
    recorded = RecordedEvent(
        position=version,
        transaction_id=version,
        event_id=new_id(),
        stream_id=f"msme-{event.msme_id}",
        stream_type="msme",
        stream_version=version,
        event_type=name,
        schema_version=schema_version,
        data=CATALOG.encode(event).decode(),
        metadata=Metadata(actor="aggregator:budi"),
        recorded_at=datetime.now(UTC),
    )
    assert settings.nats_url is not None
    connection = await bus.connect(settings.nats_url, name="quality-tests")
    try:
        subject = bus.subject(settings.nats_prefix, "catalog", name)
        await connection.jetstream().publish(subject, CATALOG.encode(event), headers=event_headers(recorded))
    finally:
        await connection.close()


def msme_registered(msme_id: UUID, org: str) -> MsmeRegistered:
    return MsmeRegistered(
        msme_id=msme_id,
        org=org,
        name="Rotan Siti",
        nib="9120001234567",
        province="Jawa Barat",
        city="Cirebon",
        contact=Contact(name="Siti Aminah", phone="+62 812 0000 0000"),
        size_class="micro",
        registered_by="nusantara-trade",
        at=datetime.now(UTC),
    )


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Poll ``check`` (bounded) until it holds; fail when ``timeout`` passes first."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the expected effect did not happen in time"
        await asyncio.sleep(0.05)
