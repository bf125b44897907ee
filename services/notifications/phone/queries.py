"""What the phone page reads: the MSMEs a phone speaks for and their requests, capacity and lots, from the
mirrors notifications keeps of catalog, pooling and quality events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from events.common import Money
from events.pooling import MonthQuantity

INBOX_LIMIT = 30
ANSWERED_LIMIT = 10
LOTS_LIMIT = 50
CAPACITY_LIMIT = 120
_plan = msgspec.json.Decoder(list[MonthQuantity])
_money = msgspec.json.Decoder(Money)
_reasons = msgspec.json.Decoder(list[str])


@dataclass(frozen=True)
class RequestRow:
    request_id: UUID
    msme: str
    product: str
    unit: str
    quantity: int
    accepted: int
    plan: list[MonthQuantity]
    unit_price: Money
    expires_at: datetime
    status: str
    pool: str
    destination: str


@dataclass(frozen=True)
class AnswerRow:
    status: str
    decision: str
    requested: int
    settled_quantity: int | None
    problem: str | None
    detail: str | None


@dataclass(frozen=True)
class CapacityRow:
    product: str
    unit: str
    month: str
    units: int
    committed: int


@dataclass(frozen=True)
class LotRow:
    lot_code: str | None
    product: str | None
    pool: str | None
    quantity: int
    delivered_on: date | None
    verdict: str | None
    reasons: list[str]


async def msmes_of(pool: asyncpg.Pool, phone: str) -> list[UUID]:
    """The MSMEs of which ``phone`` is an opted-in, not removed contact: all a session of it may see."""
    rows = await pool.fetch(
        "SELECT DISTINCT msme_id FROM notifications.contacts WHERE phone = $1 AND opted_in AND NOT removed", phone
    )
    return [row["msme_id"] for row in rows]


_REQUESTS = (
    "SELECT r.request_id, coalesce(m.name, '') AS msme, coalesce(p.name, '') AS product, r.unit, r.quantity, "
    "r.accepted, r.plan::text AS plan, r.unit_price::text AS unit_price, r.expires_at, r.status, "
    "coalesce(o.name, '') AS pool, coalesce(o.consolidation_point, '') AS destination "
    "FROM notifications.requests r LEFT JOIN notifications.msmes m ON m.msme_id = r.msme_id "
    "LEFT JOIN notifications.products p ON p.product_id = r.product_id "
    "LEFT JOIN notifications.pools o ON o.pool_id = r.pool_id "
)


def _request(row: asyncpg.Record) -> RequestRow:
    values: dict[str, Any] = dict(row)
    values["plan"] = _plan.decode(values["plan"])
    values["unit_price"] = _money.decode(values["unit_price"])
    return RequestRow(**values)


async def open_requests(pool: asyncpg.Pool, msmes: Sequence[UUID], now: datetime) -> list[RequestRow]:
    """Requests awaiting an answer, the soonest deadline first."""
    rows = await pool.fetch(
        _REQUESTS + "WHERE r.msme_id = ANY($1) AND r.status = 'pending' AND r.expires_at > $2 "
        "ORDER BY r.expires_at, r.request_id LIMIT $3",
        list(msmes), now, INBOX_LIMIT,
    )  # fmt: skip
    return [_request(row) for row in rows]


async def answered_requests(pool: asyncpg.Pool, msmes: Sequence[UUID], now: datetime) -> list[RequestRow]:
    """The latest requests no longer open (answered, expired or withdrawn)."""
    rows = await pool.fetch(
        _REQUESTS + "WHERE r.msme_id = ANY($1) AND (r.status <> 'pending' OR r.expires_at <= $2) "
        "ORDER BY r.updated_at DESC, r.request_id LIMIT $3",
        list(msmes), now, ANSWERED_LIMIT,
    )  # fmt: skip
    return [_request(row) for row in rows]


async def request(pool: asyncpg.Pool, msmes: Sequence[UUID], request_id: UUID) -> RequestRow | None:
    """One request, if it went to one of ``msmes`` (another MSME's request is as absent as an unknown one)."""
    row = await pool.fetchrow(_REQUESTS + "WHERE r.request_id = $1 AND r.msme_id = ANY($2)", request_id, list(msmes))
    return _request(row) if row else None


async def latest_answer(pool: asyncpg.Pool, request_id: UUID) -> AnswerRow | None:
    row = await pool.fetchrow(
        "SELECT a.status, a.decision, r.quantity AS requested, a.settled_quantity, a.problem, a.detail "
        "FROM notifications.answers a JOIN notifications.requests r ON r.request_id = a.request_id "
        "WHERE a.request_id = $1 ORDER BY a.given_at DESC, a.answer_id DESC LIMIT 1",
        request_id,
    )
    return AnswerRow(**dict(row)) if row else None


async def answer_status(pool: asyncpg.Pool, answer_id: UUID) -> str | None:
    status: str | None = await pool.fetchval("SELECT status FROM notifications.answers WHERE answer_id = $1", answer_id)
    return status


async def capacity(pool: asyncpg.Pool, msmes: Sequence[UUID], from_month: str) -> list[CapacityRow]:
    rows = await pool.fetch(
        "SELECT p.name AS product, p.unit, c.month, c.units, c.committed FROM notifications.capacity c "
        "JOIN notifications.products p ON p.product_id = c.product_id "
        "WHERE p.msme_id = ANY($1) AND c.month >= $2 ORDER BY p.name, p.product_id, c.month LIMIT $3",
        list(msmes), from_month, CAPACITY_LIMIT,
    )  # fmt: skip
    return [CapacityRow(**dict(row)) for row in rows]


async def lots(pool: asyncpg.Pool, msmes: Sequence[UUID]) -> list[LotRow]:
    rows = await pool.fetch(
        "SELECT l.lot_code, p.name AS product, o.name AS pool, l.quantity, l.delivered_on, l.verdict, "
        "l.reasons::text AS reasons FROM notifications.lots l "
        "LEFT JOIN notifications.products p ON p.product_id = l.product_id "
        "LEFT JOIN notifications.pools o ON o.pool_id = l.pool_id "
        "WHERE l.msme_id = ANY($1) ORDER BY l.delivered_on DESC NULLS LAST, l.lot_id DESC LIMIT $2",
        list(msmes), LOTS_LIMIT,
    )  # fmt: skip
    return [LotRow(**{**dict(row), "reasons": _reasons.decode(row["reasons"])}) for row in rows]
