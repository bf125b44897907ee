"""An MSME's answer to an allocation request given on WhatsApp or the phone page: recorded as ``AnswerGiven``.

Notifications never calls pooling: pooling consumes ``AnswerGiven``, runs the accept or decline the API runs
and appends ``AnswerSettled``, which the subscription to pooling writes into the ``answers`` row that ``give``
inserted with the event (so whoever answered reads its own answer at once, status ``given``). The phone number
is the identity, so only an opted-in, not removed contact of the request's MSME may answer.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from sqlalchemy.dialects.postgresql import insert

from events.notifications import AnswerChannel, AnswerGiven, Decision
from services.notifications.read.tables import answers
from shared.eventstore import Connection, EventStore, Metadata
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.ids import new_id
from shared.sql import execute

SCHEMA = "notifications"


def answer_stream(answer_id: UUID) -> str:
    return f"answer-{answer_id}"


class Answerer(msgspec.Struct, frozen=True, kw_only=True):
    """The contact answering, as the ``contacts`` table knows it."""

    contact_id: UUID
    msme_id: UUID
    phone: str
    language: str
    channel: str


async def answerer_for(connection: Connection, phone: str, request_id: UUID) -> Answerer:
    """The opted-in, not removed contact with this phone of the MSME the request went to; NotFound if none.

    A request unknown here and a request of an MSME the phone does not speak for look alike: not found.
    """
    row = await connection.fetchrow(
        f"SELECT c.contact_id, c.msme_id, c.phone, c.language, c.channel FROM {SCHEMA}.contacts c "
        f"JOIN {SCHEMA}.requests r ON r.msme_id = c.msme_id "
        "WHERE r.request_id = $1 AND c.phone = $2 AND c.opted_in AND NOT c.removed "
        "ORDER BY c.contact_id LIMIT 1",
        request_id,
        phone,
    )
    if row is None:
        raise NotFound(f"no allocation request {request_id} for {phone}")
    return Answerer(**dict(row))


async def give(
    store: EventStore,
    connection: Connection,
    *,
    request_id: UUID,
    answerer: Answerer,
    channel: AnswerChannel,
    decision: Decision,
    quantity: int | None = None,
    reason: str | None = None,
    message_id: str | None = None,
    at: datetime,
    metadata: Metadata,
) -> UUID:
    """Append ``AnswerGiven`` (in ``connection``'s transaction) and return the answer's id.

    ``quantity`` None accepts everything asked for; a decline needs no quantity. Pooling decides whether the
    answer stands; here it is only checked that it is an answer at all.
    """
    if decision == "accept" and quantity is not None and quantity < 1:
        raise Conflict("accept at least one unit, or decline", problem="not-answerable")
    answer_id = new_id()
    event = AnswerGiven(
        answer_id=answer_id,
        request_id=request_id,
        msme_id=answerer.msme_id,
        contact_id=answerer.contact_id,
        channel=channel,
        decision=decision,
        quantity=quantity if decision == "accept" else None,
        reason=reason if decision == "decline" else None,
        message_id=message_id,
        at=at,
    )
    await store.append(answer_stream(answer_id), "answer", 0, [event], metadata, connection=connection)
    row = {
        "answer_id": answer_id,
        "request_id": request_id,
        "msme_id": answerer.msme_id,
        "contact_id": answerer.contact_id,
        "channel": channel,
        "decision": decision,
        "quantity": event.quantity,
        "status": "given",
        "given_at": at,
    }
    await execute(connection, insert(answers).values(**row))
    return answer_id
