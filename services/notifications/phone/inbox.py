"""The signed-in pages: open requests, one request with its answer forms, capacity and lots.

A session sees the MSMEs of which its phone is an opted-in, not removed contact, checked on every request (a
removed contact loses access at once); any other MSME's request is a 404, as an unknown one is.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from services.notifications.phone import forms, queries
from services.notifications.phone.forms import Invalid
from services.notifications.phone.pages import not_found, render, see, to_sign_in
from services.notifications.phone.sessions import Visitor, check_form, visitor
from services.notifications.phone.sign_in import posted
from services.notifications.use_cases.answers import answerer_for, give
from shared.api import Context
from shared.eventstore import Metadata
from shared.kernel.ids import new_id
from shared.logs import correlation_id
from shared.service import ServiceContext

SETTLE_WAIT = 8.0
"""Seconds the answer form waits for pooling to settle the answer before showing "still processing"."""
SETTLE_STEP = 0.1


async def _signed_in(ctx: ServiceContext, request: Request[Any, Any, Any]) -> tuple[Visitor, list[UUID]] | None:
    who = await visitor(ctx, request)
    if who.session is None:
        return None
    return who, await queries.msmes_of(ctx.pool, who.session.phone)


@get("/", include_in_schema=False)
async def inbox_page(ctx: Context, request: Request[Any, Any, Any]) -> Template | Redirect:
    """Requests awaiting an answer (product, quantity by month, price, deadline, destination), then answered ones."""
    signed_in = await _signed_in(ctx, request)
    if signed_in is None:
        return to_sign_in(request)
    who, msmes = signed_in
    now = ctx.clock.now()
    return render(
        request, who, "inbox.html", msmes=msmes,
        open=await queries.open_requests(ctx.pool, msmes, now),
        answered=await queries.answered_requests(ctx.pool, msmes, now),
    )  # fmt: skip


async def _request_page(
    ctx: ServiceContext,
    request: Request[Any, Any, Any],
    who: Visitor,
    msmes: list[UUID],
    request_id: UUID,
    status: int = 200,
    **context: Any,
) -> Template:
    found = await queries.request(ctx.pool, msmes, request_id)
    if found is None:
        raise not_found()
    answerable = found.status == "pending" and found.expires_at > ctx.clock.now()
    answer = await queries.latest_answer(ctx.pool, request_id)
    return render(
        request, who, "request.html", status, r=found, answerable=answerable, answer=answer,
        reason_limit=forms.REASON_LIMIT, **context,
    )  # fmt: skip


@get("/requests/{request_id:uuid}", include_in_schema=False)
async def request_page(
    ctx: Context, request: Request[Any, Any, Any], request_id: FromPath[UUID]
) -> Template | Redirect:
    signed_in = await _signed_in(ctx, request)
    if signed_in is None:
        return to_sign_in(request)
    return await _request_page(ctx, request, *signed_in, request_id)


@post("/requests/{request_id:uuid}/answer", include_in_schema=False, status_code=303)
async def answer_request(
    ctx: Context, request: Request[Any, Any, Any], request_id: FromPath[UUID]
) -> Template | Redirect:
    """Record the answer (AnswerGiven), wait for pooling to settle it, then show the request with the outcome."""
    signed_in = await _signed_in(ctx, request)
    if signed_in is None:
        return to_sign_in(request)
    who, msmes = signed_in
    form = await posted(request)
    check_form(who, form)
    found = await queries.request(ctx.pool, msmes, request_id)
    if found is None:
        raise not_found()
    try:
        answer = forms.answer(form, found.quantity)
    except Invalid as invalid:
        return await _request_page(ctx, request, who, msmes, request_id, 422, error=invalid, form=form)
    assert who.session is not None
    async with ctx.pool.acquire() as connection, connection.transaction():
        answerer = await answerer_for(connection, who.session.phone, request_id)
        answer_id = await give(
            ctx.store, connection, request_id=request_id, answerer=answerer, channel="web",
            decision=answer.decision, quantity=answer.quantity, reason=answer.reason, at=ctx.clock.now(),
            metadata=Metadata(
                correlation_id=correlation_id.get() or str(new_id()),
                actor=f"contact:{answerer.contact_id}",
                command_id=str(new_id()),
            ),
        )  # fmt: skip
    await _settled(ctx, answer_id)
    return see(f"/m/requests/{request_id}")


async def _settled(ctx: ServiceContext, answer_id: UUID) -> None:
    """Wait, in steps, until pooling has settled the answer or SETTLE_WAIT has passed."""
    for _ in range(round(SETTLE_WAIT / SETTLE_STEP)):
        if await queries.answer_status(ctx.pool, answer_id) != "given":
            return
        await asyncio.sleep(SETTLE_STEP)


@get("/capacity", include_in_schema=False)
async def capacity_page(ctx: Context, request: Request[Any, Any, Any]) -> Template | Redirect:
    """Declared and committed capacity per product and month, from this month on."""
    signed_in = await _signed_in(ctx, request)
    if signed_in is None:
        return to_sign_in(request)
    who, msmes = signed_in
    month = ctx.clock.now().strftime("%Y-%m")
    return render(request, who, "capacity.html", rows=await queries.capacity(ctx.pool, msmes, month))


@get("/lots", include_in_schema=False)
async def lots_page(ctx: Context, request: Request[Any, Any, Any]) -> Template | Redirect:
    """Lots delivered and their verdicts, with the reasons of a rejection."""
    signed_in = await _signed_in(ctx, request)
    if signed_in is None:
        return to_sign_in(request)
    who, msmes = signed_in
    return render(request, who, "lots.html", rows=await queries.lots(ctx.pool, msmes))


@get("/{rest:path}", include_in_schema=False)
async def unknown_page(rest: FromPath[str]) -> None:
    """Any other path under /m/ is a page that does not exist, shown as such."""
    raise not_found()
