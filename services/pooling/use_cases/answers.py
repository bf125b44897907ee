"""Answers MSMEs give outside the API (WhatsApp, the phone page), recorded by notifications as ``AnswerGiven``.

Pooling runs the same accept or decline the API runs, for the MSME the answer speaks for, and records how it
went as ``AnswerSettled`` (stream ``answer-<answer_id>``) in the same transaction. A refusal (over-allocation,
expired, not answerable, unknown request) runs in a savepoint, so only ``AnswerSettled`` is appended.
"""

from __future__ import annotations

from events.notifications import AnswerGiven
from events.pooling import AnswerOutcome, AnswerSettled
from services.pooling.use_cases.allocation_requests import accept, decline, load_request
from shared.inbox import Delivery, HandlerContext
from shared.kernel.errors import GotongError

ACTOR = "pooling:channel-answers"
DEFAULT_DECLINE_REASON = "declined by the MSME"


def answer_stream(answer_id: object) -> str:
    return f"answer-{answer_id}"


async def settle(hctx: HandlerContext, delivery: Delivery) -> None:
    """Run the answer as the MSME's accept or decline and append ``AnswerSettled`` with the outcome."""
    event = delivery.event
    if not isinstance(event, AnswerGiven):
        return
    metadata = delivery.caused(ACTOR)
    by = f"{event.channel}:{event.contact_id}"
    requested, quantity, problem, detail = 0, 0, None, None
    result: AnswerOutcome
    try:
        known = await load_request(hctx.store, event.request_id, connection=hctx.connection)
        requested = known.quantity if known.msme_id == event.msme_id else 0
        if event.decision == "accept":
            outcome = await accept(
                hctx.store, event.request_id, event.quantity, answering_for={event.msme_id},
                by=by, at=event.at, metadata=metadata, connection=hctx.connection,
            )  # fmt: skip
            result, quantity = "accepted", outcome.value.accepted
        else:
            await decline(
                hctx.store, event.request_id, event.reason or DEFAULT_DECLINE_REASON, answering_for={event.msme_id},
                by=by, at=event.at, metadata=metadata, connection=hctx.connection,
            )  # fmt: skip
            result = "declined"
    except GotongError as refused:
        result, problem, detail = "refused", refused.problem, refused.detail
    settled = AnswerSettled(
        answer_id=event.answer_id,
        request_id=event.request_id,
        msme_id=event.msme_id,
        outcome=result,
        requested=requested,
        quantity=quantity,
        problem=problem,
        detail=detail,
        at=event.at,
    )
    await hctx.store.append(
        answer_stream(event.answer_id), "answer", 0, [settled], metadata, connection=hctx.connection
    )
