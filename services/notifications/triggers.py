"""Which events tell an MSME something, and the message each queues for every opted-in WhatsApp contact.

Triggers: a request sent (or re-sent after a re-allocation), a request about to expire (a due action at
``expires_at - GOTONG_REMINDER_BEFORE``, or halfway for a shorter request, see ``domain.reminders``, firing only
if it is still pending), a lot accepted or rejected with its reasons, the consignment shipped with the MSME's
lots, an answer settled (a reply to whoever answered), and a certificate about to expire (catalog's notices 30
and 7 days before its last valid day).
Each runs in the transaction of the event's inbox row and only inserts rows: the sender sends them later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from events.catalog import CertificationExpiring
from events.pooling import AllocationRequested, AnswerSettled, ConsignmentShipped
from events.quality import LotAccepted, LotRejected
from services.notifications.deliveries import enqueue
from services.notifications.domain import messages
from services.notifications.domain.outbound import OutboundMessage
from services.notifications.domain.reminders import reminder_at
from services.notifications.read.projections import PROJECTION
from services.notifications.settings import NotificationSettings, settings_of
from shared.eventstore import Connection
from shared.inbox import Delivery, Early, HandlerContext
from shared.projection import apply_batch
from shared.schedule import schedule

SCHEMA = "notifications"
WAIT_FOR_OTHER_SERVICES = timedelta(minutes=10)
"""How long a trigger waits for another service's event it needs (then it says what it knows without it)."""
REMINDER = "request-reminder"
"""Due-action kind: remind the MSME of a request still pending; the subject is the request id."""
CONTACTS_BATCH = 500  # contact events a handler applies at a time when the projector is behind

_OPTED_IN = (
    f"SELECT contact_id, msme_id, phone, channel, language FROM {SCHEMA}.contacts "
    "WHERE msme_id = $1 AND opted_in AND NOT removed AND channel = 'whatsapp' ORDER BY contact_id"
)


async def recipients(connection: Connection, msme_id: UUID) -> list[asyncpg.Record]:
    """The MSME's contacts a notification goes to: opted in, not removed, on WhatsApp."""
    return list(await connection.fetch(_OPTED_IN, msme_id))


def _template(settings: NotificationSettings, kind: str) -> str | None:
    return settings.whatsapp.templates.get(kind) if settings.whatsapp else None


async def request_facts(connection: Connection, request_id: UUID) -> tuple[messages.RequestFacts, str] | None:
    """What a request message says, from the mirrors, and the request's status."""
    row = await connection.fetchrow(
        f"""SELECT r.request_id, r.quantity, r.unit, r.plan::text AS plan, r.unit_price::text AS unit_price,
                   r.expires_at, r.status, coalesce(m.name, '') AS msme_name, coalesce(p.name, r.unit) AS product,
                   coalesce(pl.consolidation_point, '') AS destination, coalesce(pl.name, '') AS pool
            FROM {SCHEMA}.requests r
            LEFT JOIN {SCHEMA}.msmes m ON m.msme_id = r.msme_id
            LEFT JOIN {SCHEMA}.products p ON p.product_id = r.product_id
            LEFT JOIN {SCHEMA}.pools pl ON pl.pool_id = r.pool_id
            WHERE r.request_id = $1""",
        request_id,
    )
    if row is None:
        return None
    plan = [(m["month"], int(m["quantity"])) for m in msgspec.json.decode(row["plan"])]
    price: dict[str, Any] = msgspec.json.decode(row["unit_price"])
    facts = messages.RequestFacts(
        request_id=row["request_id"],
        msme_name=row["msme_name"],
        product=row["product"],
        quantity=row["quantity"],
        unit=row["unit"],
        plan=plan,
        price=str(price.get("amount", "")),
        currency=str(price.get("currency", "")),
        expires_at=row["expires_at"],
        destination=row["destination"],
        pool=row["pool"],
    )
    return facts, row["status"]


def _fresh(delivery: Delivery) -> bool:
    """Recorded recently enough that what it depends on in another service's events is still on its way."""
    return datetime.now(UTC) - delivery.recorded_at < WAIT_FOR_OTHER_SERVICES


async def _queue_each(
    connection: Connection,
    msme_id: UUID,
    trigger: str,
    kind: str,
    build: Any,
    *,
    at: Any,
    request_id: UUID | None = None,
) -> int:
    queued = 0
    for contact in await recipients(connection, msme_id):
        message: OutboundMessage = build(contact["language"])
        queued += await enqueue(
            connection, trigger=trigger, contact=_Contact(contact), kind=kind, message=message,
            request_id=request_id, at=at,
        )  # fmt: skip
    return queued


class _Contact:
    """A contacts row as an outbox recipient."""

    def __init__(self, row: asyncpg.Record) -> None:
        self.contact_id: UUID = row["contact_id"]
        self.msme_id: UUID = row["msme_id"]
        self.phone: str = row["phone"]
        self.channel: str = row["channel"]
        self.language: str = row["language"]


async def request_sent(hctx: HandlerContext, delivery: Delivery, event: AllocationRequested) -> None:
    connection, settings = hctx.connection, settings_of(hctx.store)
    resent = bool(
        await connection.fetchval(
            f"SELECT true FROM {SCHEMA}.requests WHERE pool_id = $1 AND proposal_id <> $2 LIMIT 1",
            event.pool_id,
            event.proposal_id,
        )
    )
    found = await request_facts(connection, event.request_id)
    assert found is not None  # the mirror wrote it in this transaction
    facts, _ = found
    link = settings.request_link(event.request_id)
    template = _template(settings, "request")
    await _queue_each(
        connection, event.msme_id, str(delivery.event_id), "request_resent" if resent else "request",
        lambda language: messages.request_message(facts, language, link=link, resent=resent, template=template),
        at=event.at, request_id=event.request_id,
    )  # fmt: skip
    remind_at = reminder_at(event.at, event.expires_at, settings.reminder_before)
    if remind_at is not None:
        await schedule(connection, REMINDER, str(event.request_id), remind_at, schema=SCHEMA)


async def remind(connection: Connection, settings: NotificationSettings, request_id: UUID, at: Any) -> int:
    """The reminder of a request still pending; nothing for one answered, expired or withdrawn."""
    found = await request_facts(connection, request_id)
    if found is None or found[1] != "pending":
        return 0
    facts, _ = found
    msme_id = await connection.fetchval(f"SELECT msme_id FROM {SCHEMA}.requests WHERE request_id = $1", request_id)
    link = settings.request_link(request_id)
    template = _template(settings, "reminder")
    return await _queue_each(
        connection, msme_id, f"reminder:{request_id}", "reminder",
        lambda language: messages.reminder_message(facts, language, link=link, template=template),
        at=at, request_id=request_id,
    )  # fmt: skip


async def lot_judged(hctx: HandlerContext, delivery: Delivery, event: LotAccepted | LotRejected) -> None:
    connection, settings = hctx.connection, settings_of(hctx.store)
    row = await connection.fetchrow(
        f"SELECT l.lot_code, l.quantity, coalesce(m.name, '') AS msme FROM {SCHEMA}.lots l "
        f"LEFT JOIN {SCHEMA}.msmes m ON m.msme_id = l.msme_id WHERE l.lot_id = $1",
        event.lot_id,
    )
    if (row is None or row["lot_code"] is None) and _fresh(delivery):
        # quality judged a lot whose arrival (pooling's LotReceived, with its code) is not here yet: the two
        # services' events take separate paths, so wait for it a little rather than name the lot by its id
        raise Early(f"lot {event.lot_id} judged before pooling's LotReceived arrived")
    code = (row["lot_code"] if row else None) or str(event.lot_id)[:8]
    quantity = row["quantity"] if row else event.lot_size
    msme = row["msme"] if row else ""
    template = _template(settings, "update")
    if isinstance(event, LotAccepted):
        kind = "lot_accepted"

        def text(language: str) -> str:
            return messages.lot_accepted_text(language, code, quantity, msme)
    else:
        kind = "lot_rejected"

        def text(language: str) -> str:
            return messages.lot_rejected_text(language, code, quantity, msme, list(event.reasons))

    await _queue_each(
        connection, event.msme_id, str(delivery.event_id), kind,
        lambda language: messages.update_message(text(language), language, template=template), at=event.at,
    )  # fmt: skip


async def shipped(hctx: HandlerContext, delivery: Delivery, event: ConsignmentShipped) -> None:
    connection, settings = hctx.connection, settings_of(hctx.store)
    destination = await connection.fetchval(
        f"SELECT consolidation_point FROM {SCHEMA}.pools WHERE pool_id = $1", event.pool_id
    )
    template = _template(settings, "update")
    by_msme: dict[UUID, list[tuple[str, int]]] = {}
    for lot in event.lots:
        by_msme.setdefault(lot.msme_id, []).append((lot.lot_code, lot.quantity))
    for msme_id, shipped_lots in sorted(by_msme.items()):
        codes = [code for code, _ in shipped_lots]
        units = sum(quantity for _, quantity in shipped_lots)

        def build(language: str, codes: list[str] = codes, units: int = units) -> OutboundMessage:
            text = messages.shipped_text(language, codes, units, destination or "")
            return messages.update_message(text, language, template=template)

        await _queue_each(connection, msme_id, str(delivery.event_id), "shipped", build, at=event.at)


async def certificate_expiring(hctx: HandlerContext, delivery: Delivery, event: CertificationExpiring) -> None:
    connection, settings = hctx.connection, settings_of(hctx.store)
    msme = await connection.fetchval(f"SELECT name FROM {SCHEMA}.msmes WHERE msme_id = $1", event.msme_id)
    template = _template(settings, "update")

    def build(language: str) -> OutboundMessage:
        text = messages.certificate_expiring_text(
            language, event.name, event.number, msme or "", event.valid_until.isoformat(), event.days_left
        )
        return messages.update_message(text, language, template=template)

    await _queue_each(connection, event.msme_id, str(delivery.event_id), "certificate_expiring", build, at=event.at)


async def answer_settled(hctx: HandlerContext, delivery: Delivery, event: AnswerSettled) -> None:
    """Write the outcome into ``answers`` and reply to the contact who answered, in its language."""
    connection, settings = hctx.connection, settings_of(hctx.store)
    status = {"accepted": "accepted", "declined": "declined"}.get(event.outcome, "refused")
    contact_id = await connection.fetchval(
        f"UPDATE {SCHEMA}.answers SET status = $2, settled_quantity = $3, problem = $4, detail = $5, settled_at = $6 "
        "WHERE answer_id = $1 RETURNING contact_id",
        event.answer_id,
        status,
        event.quantity,
        event.problem,
        event.detail,
        event.at,
    )
    if contact_id is None:
        return
    contact = await connection.fetchrow(
        f"SELECT contact_id, msme_id, phone, channel, language FROM {SCHEMA}.contacts "
        "WHERE contact_id = $1 AND opted_in AND NOT removed",
        contact_id,
    )
    if contact is None:
        return
    text = messages.outcome_text(contact["language"], event.outcome, event.quantity, event.requested, event.problem)
    message = messages.update_message(
        text, contact["language"], link=settings.request_link(event.request_id), template=_template(settings, "update")
    )
    await enqueue(
        connection, trigger=str(delivery.event_id), contact=_Contact(contact), kind="answer_outcome",
        message=message, request_id=event.request_id, at=event.at,
    )  # fmt: skip


async def contacts_current(hctx: HandlerContext) -> None:
    """``contacts`` as notifications' own committed events leave it: what the projector has not applied yet is
    applied here, in the handler's transaction, before a trigger reads the recipients. A contact added a moment
    before a request (its ``201`` given, its projection a round away) is one the request goes to."""
    tables = PROJECTION.live_tables()
    while await apply_batch(hctx.store, hctx.connection, PROJECTION, tables, PROJECTION.checkpoint, CONTACTS_BATCH):
        pass


def on_pooling_triggers(delivery: Delivery) -> bool:
    """Does ``on_pooling`` tell anyone of this event?"""
    return isinstance(delivery.event, AllocationRequested | AnswerSettled | ConsignmentShipped)


async def on_pooling(hctx: HandlerContext, delivery: Delivery) -> None:
    """Requests sent, answers settled, consignments shipped."""
    event = delivery.event
    match event:
        case AllocationRequested():
            await request_sent(hctx, delivery, event)
        case AnswerSettled():
            await answer_settled(hctx, delivery, event)
        case ConsignmentShipped():
            await shipped(hctx, delivery, event)


def on_catalog_triggers(delivery: Delivery) -> bool:
    """Does ``on_catalog`` tell anyone of this event?"""
    return isinstance(delivery.event, CertificationExpiring)


async def on_catalog(hctx: HandlerContext, delivery: Delivery) -> None:
    """Certificates about to expire."""
    if isinstance(delivery.event, CertificationExpiring):
        await certificate_expiring(hctx, delivery, delivery.event)


def on_quality_triggers(delivery: Delivery) -> bool:
    """Does ``on_quality`` tell anyone of this event?"""
    event = delivery.event
    return isinstance(event, LotAccepted | LotRejected) and not event.second_opinion


async def on_quality(hctx: HandlerContext, delivery: Delivery) -> None:
    """Lots accepted or rejected."""
    event = delivery.event
    if isinstance(event, LotAccepted | LotRejected) and not event.second_opinion:
        await lot_judged(hctx, delivery, event)
