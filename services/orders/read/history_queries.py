"""Reading what other services did for an order, for its history, from orders' own tables.

Pooling's events are kept as they came and quality's verdicts as facts about lots; both are told in words
here, when the history is read, with the MSME names and lot codes orders knows by then. A verdict belongs to
an order through the lines its lot was delivered for, joined at read time, so the history is the same
whichever of pooling's and quality's events arrived first, or whether they were handled at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from events.pooling import CODEC as POOLING
from events.quality import ClassPlan
from services.orders.domain.history import happened_at, summarise
from services.orders.domain.order import OrderEvent
from services.orders.domain.timeline import pooling_summary, verdict_summary
from services.orders.read.supply_records import lot_codes, msme_names
from services.orders.read.tables import lot_inspections, lot_lines, order_timeline
from services.orders.read.views import HistoryItem, OrderHistory
from shared.eventstore import Connection, RecordedEvent
from shared.sql import fetch

_plans = msgspec.json.Decoder(list[ClassPlan])
_reasons = msgspec.json.Decoder(list[str])


class Told(msgspec.Struct, frozen=True, kw_only=True):
    """Another service's event in an order's history, with what places it among the order's own events."""

    at: datetime
    recorded_at: datetime
    event_id: UUID
    item: HistoryItem

    @property
    def order_key(self) -> tuple[datetime, datetime, UUID]:
        """When it happened, then when it was recorded, then its id, so equal times sort the same every time."""
        return (self.at, self.recorded_at, self.event_id)


async def told_by_others(db: Connection | asyncpg.Pool, order_id: UUID) -> list[Told]:
    """Pooling's events that touched the order and quality's verdicts on the lots delivered for it, oldest
    first."""
    t = order_timeline.c
    kept = await fetch(
        db,
        sa.select(t.event_id, t.service, t.event_type, t.schema_version, t.at, t.recorded_at, t.actor, t.summary)
        .add_columns(t.data.cast(sa.Text).label("data"))
        .where(t.order_id == order_id),
    )
    events = {
        row["event_id"]: POOLING.decode(row["event_type"], row["schema_version"], row["data"])
        for row in kept
        if row["data"] is not None
    }
    i = lot_inspections.c
    served = sa.select(lot_lines.c.lot_id).where(lot_lines.c.order_id == order_id)
    verdicts = await fetch(
        db,
        sa.select(i.event_id, i.lot_id, i.msme_id, i.accepted, i.severity, i.inspector_org, i.at, i.recorded_at)
        .add_columns(i.actor, i.plans.cast(sa.Text).label("plans"), i.reasons.cast(sa.Text).label("reasons"))
        .where(i.lot_id.in_(served)),
    )
    mentioned = [*events.values(), *verdicts]
    names = await msme_names(db, {_field(e, "msme_id") for e in mentioned} - {None})
    codes = await lot_codes(db, {_field(e, "lot_id") for e in mentioned} - {None})

    told = [
        _told(row, row["service"], row["event_type"], _pooling_words(row, events, order_id, names, codes))
        for row in kept
    ]
    told += [
        _told(row, "quality", "LotAccepted" if row["accepted"] else "LotRejected", _verdict_words(row, names, codes))
        for row in verdicts
    ]
    return sorted(told, key=lambda entry: entry.order_key)


async def order_history(
    db: Connection | asyncpg.Pool, order_id: UUID, events: Sequence[tuple[RecordedEvent, OrderEvent]]
) -> OrderHistory:
    """The order's own ``events`` and what other services did for it, told in words, oldest first."""
    own = [
        (
            (happened_at(event), record.recorded_at, record.event_id),
            HistoryItem(
                at=happened_at(event),
                actor=record.metadata.actor,
                event=record.event_type,
                summary=summarise(event),
                version=record.stream_version,
            ),
        )
        for record, event in events
    ]
    others = [(entry.order_key, entry.item) for entry in await told_by_others(db, order_id)]
    return OrderHistory([item for _, item in sorted(own + others, key=lambda pair: pair[0])])


def _told(row: asyncpg.Record, service: str, event: str, summary: str) -> Told:
    item = HistoryItem(at=row["at"], actor=row["actor"], event=event, summary=summary, version=None, service=service)
    return Told(at=row["at"], recorded_at=row["recorded_at"], event_id=row["event_id"], item=item)


def _field(source: object, name: str) -> Any:
    """A field of a pooling event or of a row, or None when it has none."""
    if isinstance(source, asyncpg.Record):
        return source.get(name)
    value = getattr(source, name, None)
    return value if isinstance(value, UUID) else None


def _pooling_words(
    row: asyncpg.Record, events: dict[UUID, Any], order_id: UUID, names: dict[UUID, str], codes: dict[UUID, str]
) -> str:
    event = events.get(row["event_id"])
    if event is None:  # kept, before events were, as the words of its day
        return str(row["summary"])
    return pooling_summary(event, order_id, names, codes) or row["event_type"]


def _verdict_words(row: asyncpg.Record, names: dict[UUID, str], codes: dict[UUID, str]) -> str:
    return verdict_summary(
        accepted=row["accepted"],
        lot=codes.get(row["lot_id"], str(row["lot_id"])),
        msme=names.get(row["msme_id"], str(row["msme_id"])),
        severity=row["severity"],
        inspector_org=row["inspector_org"],
        plans=_plans.decode(row["plans"]),
        reasons=_reasons.decode(row["reasons"]),
    )
