"""Certificates over HTTP: a scope of products that search respects, and expiry notices 30 and 7 days before a
certificate's last valid day, fired once each by the due-action worker on the service's clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from events.catalog import CertificationExpiring
from services.catalog.app import service
from services.catalog.commands import CERTIFICATE_EXPIRY
from services.catalog.expiry import notice_certificate_expiry
from shared.eventstore import EventStore
from shared.projection import Projector
from shared.schedule import fire_due_actions
from shared.service import ServiceContext
from tests.integration.catalog.conftest import AGGREGATOR, BUYER, NOW, WEAVERS, Catalog
from tests.integration.catalog.test_msmes_api import fields

pytestmark = pytest.mark.integration

LAST_DAY = NOW.date() + timedelta(days=40)  # 2026-11-24


def halal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "halal", "number": "ID00410000123450423", "issuer": "BPJPH",
                            "valid_from": "2025-01-01", "valid_until": LAST_DAY.isoformat()}  # fmt: skip
    body.update(overrides)
    return body


async def skus(catalog: Catalog, query: str) -> list[str]:
    response = await catalog.client.get(f"/v1/products?{query}", headers=BUYER)
    assert response.status_code == 200, response.text
    return sorted(item["sku"] for item in response.json()["items"])


async def test_a_scoped_certificate_covers_only_its_products_in_search(catalog: Catalog) -> None:
    weavers = await catalog.register()
    basket = await catalog.list_product(weavers["id"])
    await catalog.list_product(weavers["id"], sku="KRP-1", name="Cassava crackers", hs_code="1905.90",
                               category="snacks", unit="KGM")  # fmt: skip
    url = f"/v1/msmes/{weavers['id']}/certifications"
    scope = {"hs_prefixes": ["1905"], "product_ids": []}
    added = await catalog.client.post(url, json=halal(scope=scope), headers=WEAVERS)
    assert added.status_code == 201, added.text
    [certificate] = added.json()["certifications"]
    assert certificate["scope"] == {"product_ids": [], "hs_prefixes": ["1905"]}
    sni = await catalog.client.post(
        url, json=halal(kind="sni", number="SNI-1", scope={"product_ids": [basket["id"]]}), headers=WEAVERS
    )
    await catalog.client.get(f"/v1/msmes/{weavers['id']}?wait_for_position={sni.json()['position']}", headers=BUYER)
    assert await skus(catalog, "certification=halal") == ["KRP-1"]
    assert await skus(catalog, "certification=sni") == ["RB-40"]
    profile = (await catalog.client.get(f"/v1/msmes/{weavers['id']}", headers=BUYER)).json()
    assert {c["kind"]: c["scope"] for c in profile["certifications"]} == {
        "halal": {"product_ids": [], "hs_prefixes": ["1905"]},
        "sni": {"product_ids": [basket["id"]], "hs_prefixes": []},
    }
    # A product moved under the prefix is covered from then on.
    moved = await catalog.client.patch(f"/v1/products/{basket['id']}", json={"hs_code": "1905.31"}, headers=WEAVERS)
    assert moved.status_code == 200, moved.text
    await catalog.client.get(f"/v1/products/{basket['id']}?wait_for_position={moved.json()['position']}",
                             headers=BUYER)  # fmt: skip
    assert await skus(catalog, "certification=halal") == ["KRP-1", "RB-40"]


async def test_a_bad_scope_names_its_field(catalog: Catalog) -> None:
    weavers = await catalog.register()
    url = f"/v1/msmes/{weavers['id']}/certifications"
    foreign = {"product_ids": ["01890000-0000-7000-8000-000000000999"], "hs_prefixes": ["1"]}
    refused = await catalog.client.post(url, json=halal(scope=foreign), headers=WEAVERS)
    assert refused.status_code == 422 and fields(refused) == {"scope.hs_prefixes[0]"}  # the body's shape first
    refused = await catalog.client.post(url, json=halal(scope={"product_ids": foreign["product_ids"]}), headers=WEAVERS)
    assert refused.status_code == 422 and fields(refused) == {"scope.product_ids[0]"}
    empty = await catalog.client.post(url, json=halal(scope={}), headers=WEAVERS)
    assert empty.status_code == 422 and fields(empty) == {"scope"}


def context_on(pool: asyncpg.Pool, catalog: Catalog) -> ServiceContext:
    """The catalog's context on this test's own pool (the app serves from another event loop)."""
    store = EventStore(pool, "catalog", service.codec)
    runtime = catalog.runtime
    return ServiceContext(service, runtime.settings, pool, store, catalog.clock, runtime.tokens, Projector(store, []))


async def notices(store: EventStore, msme_id: str) -> list[CertificationExpiring]:
    records = await store.read_stream(f"msme-{msme_id}")
    return [e for e in (store.decode(r) for r in records) if isinstance(e, CertificationExpiring)]


async def notices_when(
    store: EventStore, msme_id: str, count: int, timeout: float = 15.0
) -> list[CertificationExpiring]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(found := await notices(store, msme_id)) < count:
        assert loop.time() < deadline, f"{count} notices did not come within {timeout} s: {found}"
        await asyncio.sleep(0.05)
    return found


async def test_expiry_notices_come_30_and_7_days_before_once_each(catalog: Catalog, pool: asyncpg.Pool) -> None:
    ctx = context_on(pool, catalog)
    weavers = await catalog.register(AGGREGATOR, org="cirebon-weavers")
    added = await catalog.client.post(f"/v1/msmes/{weavers['id']}/certifications", json=halal(), headers=WEAVERS)
    certification_id = added.json()["certifications"][0]["id"]
    rows = await pool.fetch(
        "SELECT subject, due_at FROM catalog.due_actions WHERE kind = $1 ORDER BY due_at", CERTIFICATE_EXPIRY
    )
    midnight = datetime.combine(LAST_DAY, datetime.min.time(), tzinfo=UTC)
    assert [(r["subject"], r["due_at"]) for r in rows] == [
        (f"{certification_id}:30", midnight - timedelta(days=30)),
        (f"{certification_id}:7", midnight - timedelta(days=7)),
    ]
    assert await fire_due_actions(ctx, {CERTIFICATE_EXPIRY: notice_certificate_expiry}) == 0  # not yet

    catalog.clock.advance(midnight - timedelta(days=30) - NOW + timedelta(hours=8))
    [first] = await notices_when(ctx.store, weavers["id"], 1)
    assert (first.days_left, first.notice_days, first.valid_until) == (30, 30, LAST_DAY)
    assert (first.kind, first.number, str(first.certification_id)) == ("halal", "ID00410000123450423",
                                                                      certification_id)  # fmt: skip
    assert (first.org, first.registered_by) == ("cirebon-weavers", "nusantara-trading")
    # Fired again (an action replayed, or rescheduled by mistake): still one notice.
    await wait_done(pool, f"{certification_id}:30")
    await pool.execute("UPDATE catalog.due_actions SET done_at = NULL WHERE subject = $1", f"{certification_id}:30")
    await wait_done(pool, f"{certification_id}:30")
    assert len(await notices(ctx.store, weavers["id"])) == 1

    catalog.clock.advance(timedelta(days=23))
    first_again, second = await notices_when(ctx.store, weavers["id"], 2)
    assert first_again == first and (second.days_left, second.notice_days) == (7, 7)
    catalog.clock.advance(timedelta(days=30))
    assert await fire_due_actions(ctx, {CERTIFICATE_EXPIRY: notice_certificate_expiry}) == 0
    assert len(await notices(ctx.store, weavers["id"])) == 2


async def wait_done(pool: asyncpg.Pool, subject: str, timeout: float = 15.0) -> None:
    """The worker fired the due action and marked it done."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    query = "SELECT done_at FROM catalog.due_actions WHERE kind = $1 AND subject = $2"
    while await pool.fetchval(query, CERTIFICATE_EXPIRY, subject) is None:
        assert loop.time() < deadline, f"the due action {subject} was never fired"
        await asyncio.sleep(0.05)


async def test_a_renewal_in_time_spares_the_notice_and_a_late_certificate_gets_only_the_notices_ahead(
    catalog: Catalog, pool: asyncpg.Pool
) -> None:
    ctx = context_on(pool, catalog)
    weavers = await catalog.register()
    url = f"/v1/msmes/{weavers['id']}/certifications"
    expiring = (await catalog.client.post(url, json=halal(), headers=WEAVERS)).json()["certifications"][0]["id"]
    renewal = halal(number="ID00410000123459999", valid_from=(LAST_DAY - timedelta(days=5)).isoformat(),
                    valid_until=date(2030, 11, 24).isoformat())  # fmt: skip
    assert (await catalog.client.post(url, json=renewal, headers=WEAVERS)).status_code == 201
    soon = halal(kind="bpom", number="MD 123", valid_until=(NOW.date() + timedelta(days=20)).isoformat())
    bpom_id = next(
        c["id"]
        for c in (await catalog.client.post(url, json=soon, headers=WEAVERS)).json()["certifications"]
        if c["kind"] == "bpom"
    )
    subjects = await pool.fetch("SELECT subject FROM catalog.due_actions WHERE kind = $1", CERTIFICATE_EXPIRY)
    assert f"{bpom_id}:30" not in {r["subject"] for r in subjects}  # its day passed before it was recorded
    assert len(subjects) == 5  # 30 and 7 days for halal and its renewal, 7 days only for BPOM (20 days left)

    catalog.clock.advance(timedelta(days=10, hours=8))  # the expiring halal certificate's 30-day notice is due
    await wait_done(pool, f"{expiring}:30")
    assert await notices(ctx.store, weavers["id"]) == []  # its renewal is held
    catalog.clock.advance(timedelta(days=3))  # BPOM's 7-day notice
    [bpom] = await notices_when(ctx.store, weavers["id"], 1)
    assert (bpom.kind, bpom.days_left, str(bpom.certification_id)) == ("bpom", 7, bpom_id)
    catalog.clock.advance(timedelta(days=20))  # the halal 7-day notice: still spared
    await wait_done(pool, f"{expiring}:7")
    assert [n.kind for n in await notices(ctx.store, weavers["id"])] == ["bpom"]
