"""A consumer of the ledger's events: records what it sees, refuses 'poison' deposits until cured."""

from __future__ import annotations

from collections.abc import Sequence

from events.base import Event, EventCodec
from shared.inbox import Delivery, HandlerContext, Subscription
from shared.migrations import Migration
from shared.service import Service
from tests.support.ledger import CODEC as LEDGER_CODEC
from tests.support.ledger import Deposited

POISON = 13


class Noted(Event, frozen=True, kw_only=True, tag="audit.Noted.v1"):
    """The audit service's own (unused) event type: every service has a codec."""

    note: str


async def record(context: HandlerContext, delivery: Delivery) -> None:
    event = delivery.event
    if isinstance(event, Deposited) and event.amount == POISON:
        cured = await context.connection.fetchval("SELECT count(*) FROM audit.cures")
        if not cured:
            raise ValueError("a deposit of 13 is refused until cured")
    await context.connection.execute(
        "INSERT INTO audit.seen (event_id, stream_id, version) VALUES ($1, $2, $3)",
        delivery.event_id,
        delivery.stream_id,
        delivery.stream_version,
    )


async def record_many(context: HandlerContext, deliveries: Sequence[Delivery]) -> None:
    """``record`` of a batch: the refusals checked first, then every row in one statement."""
    poisoned = [d for d in deliveries if isinstance(d.event, Deposited) and d.event.amount == POISON]
    if poisoned and not await context.connection.fetchval("SELECT count(*) FROM audit.cures"):
        raise ValueError("a deposit of 13 is refused until cured")
    await context.connection.execute(
        "INSERT INTO audit.seen (event_id, stream_id, version) SELECT event_id, stream_id, version "
        "FROM unnest($1::uuid[], $2::text[], $3::int[]) WITH ORDINALITY AS d(event_id, stream_id, version, n) "
        "ORDER BY n",
        [d.event_id for d in deliveries],
        [d.stream_id for d in deliveries],
        [d.stream_version for d in deliveries],
    )


def _tables(schema: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {schema}.seen (n bigint GENERATED ALWAYS AS IDENTITY, event_id uuid NOT NULL,"
        " stream_id text NOT NULL, version int NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {schema}.cures (note text)",
    ]


audit_service = Service(
    name="audit",
    codec=EventCodec("audit", Noted),
    migrations=[Migration("0001_seen", _tables)],
    subscriptions=[Subscription("ledger-audit", source="ledger", codec=LEDGER_CODEC, handle=record)],
)
