"""Certificates gate allocation: a required certificate must be valid through the candidate's delivery month (the
last month its plan may book) and cover its product, or the MSME is left out, the proposal saying which
certificate and why. Fed by catalog's events published for real."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from events import catalog
from shared.kernel.ids import new_id
from tests.conftest import Servers
from tests.integration.pooling.harness import AGGREGATOR, Pooling, eventually, running_pooling

pytestmark = pytest.mark.integration

CRACKERS = "19059090"  # cassava crackers: food (HS chapter 19)


@pytest.fixture
async def pooling(database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool) -> AsyncIterator[Pooling]:
    async with running_pooling(database_url, servers.nats_url, nats_prefix, pool) as running:
        yield running


async def certify(
    pooling: Pooling, msme_id: UUID, kind: str, number: str, valid_until: date, **scope: list[Any]
) -> None:
    await pooling.catalog.publish(
        f"msme-{msme_id}",
        catalog.CertificationAdded(
            certification_id=new_id(), msme_id=msme_id, kind=kind, name=kind.upper(), number=number,  # type: ignore[arg-type]
            issuer="BSN", valid_from=date(2025, 1, 1), valid_until=valid_until,
            scope=catalog.CertificationScope(**scope) if scope else None, at=pooling.clock.now(),
        ),
    )  # fmt: skip


async def known_certificates(pooling: Pooling, count: int) -> None:
    """Pooling has taken in ``count`` certificates from catalog's events."""

    async def taken_in() -> bool:
        return bool(await pooling.db.fetchval("SELECT count(*) FROM pooling.certifications") == count)

    await eventually(taken_in)


async def allocate(pooling: Pooling, pool_id: str, **policy: Any) -> dict[str, Any]:
    response = await pooling.client.post(f"/v1/pools/{pool_id}/allocate", json=policy, headers=AGGREGATOR)
    assert response.status_code == 201, response.text
    proposal: dict[str, Any] = response.json()
    return proposal


async def test_a_certificate_expiring_the_month_before_delivery_leaves_its_msme_out_and_says_so(
    pooling: Pooling,
) -> None:
    # Required by 1 April with 14 days' lead time: plans may book January to March 2027, the delivery month.
    lapsing, _ = await pooling.msme("rotan-cirebon", price="3.50")
    covered, _ = await pooling.msme("rotan-solo", city="Surakarta", price="4.50")
    elsewhere, _ = await pooling.msme("rotan-kudus", city="Kudus", price="3.00")
    await certify(pooling, lapsing, "sni", "SNI-8234-A", date(2027, 2, 28))
    await certify(pooling, covered, "sni", "SNI-8234-B", date(2027, 3, 31))
    await certify(pooling, elsewhere, "sni", "SNI-8234-C", date(2030, 1, 1), hs_prefixes=["9403"])
    await known_certificates(pooling, 3)
    pool = await pooling.open_pool()
    await pooling.confirm_order([500], required_by=date(2027, 4, 1))
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 500)

    proposal = await allocate(pooling, pool["id"], required_certifications=["sni"])
    assert {a["msme_id"]: a["quantity"] for a in proposal["allocations"]} == {str(covered): 500}
    reasons = {e["msme_id"]: (e["reason"], e["detail"]) for e in proposal["excluded"]}
    assert reasons[str(lapsing)] == (
        "missing_certification",
        "the sni certificate SNI-8234-A expires on 2027-02-28, before the end of the delivery month 2027-03",
    )
    assert reasons[str(elsewhere)] == (
        "missing_certification",
        "the sni certificate SNI-8234-C does not cover this product",
    )
    # Without the requirement the cheapest MSMEs win.
    unrestricted = await allocate(pooling, pool["id"])
    assert {a["msme_id"] for a in unrestricted["allocations"]} == {str(elsewhere)}


async def test_a_food_pool_may_require_halal_of_its_makers(pooling: Pooling) -> None:
    uncertified, _ = await pooling.msme("kerupuk-garut", hs_code=CRACKERS, price="2.00")
    halal, _ = await pooling.msme("kerupuk-sidoarjo", city="Sidoarjo", hs_code=CRACKERS, price="2.50")
    await certify(pooling, halal, "halal", "ID35110000123450424", date(2029, 6, 30), hs_prefixes=["1905"])
    await known_certificates(pooling, 1)
    pool = await pooling.open_pool(hs_code=CRACKERS, name="Cassava crackers for Rotterdam")
    await pooling.confirm_order([300], hs_code=CRACKERS)
    await pooling.pool_where(pool["id"], lambda p: p["demand"] == 300)

    proposal = await allocate(pooling, pool["id"], require_halal_for_food=True)
    assert {a["msme_id"] for a in proposal["allocations"]} == {str(halal)}
    [left_out] = [e for e in proposal["excluded"] if e["msme_id"] == str(uncertified)]
    assert (left_out["reason"], left_out["detail"]) == ("missing_certification", "no halal certificate")
    assert {a["msme_id"] for a in (await allocate(pooling, pool["id"]))["allocations"]} == {str(uncertified)}
