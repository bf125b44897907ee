"""Routes of a subscription's delivery log: what was sent, how each try went, and sending a message again."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get, post
from litestar.params import FromPath, PathParameter, QueryParameter

from services.webhooks import commands
from services.webhooks.api.subscriptions import READ, WRITE
from services.webhooks.read import queries
from services.webhooks.read.queries import DeliveryStatus
from services.webhooks.read.views import DeliveryDetail, DeliveryView
from shared.api import Caller, Context, Cursor, Limit
from shared.pages import Page
from shared.problems import problem_responses

MessageId = Annotated[
    str,
    PathParameter(min_length=1, max_length=80, pattern=r"^msg_[0-9a-f]{32}_[0-9a-f]{32}$", description="webhook-id"),
]
StatusFilter = Annotated[DeliveryStatus | None, QueryParameter(name="status")]
TypeFilter = Annotated[str | None, QueryParameter(name="event_type", min_length=1, max_length=64)]


@get("/webhooks/{webhook_id:uuid}/deliveries", guards=READ)
async def list_deliveries(
    webhook_id: FromPath[UUID],
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: StatusFilter = None,
    event_type: TypeFilter = None,
) -> Page[DeliveryView]:
    """The subscription's messages, newest first: status, tries, the last answer's code, body (≤ 1 kB) and
    latency, and when the next try is due."""
    await queries.visible_subscription(ctx, principal, webhook_id)
    return await queries.deliveries_page(ctx, webhook_id, limit, cursor, status, event_type)


@get("/webhooks/{webhook_id:uuid}/deliveries/{message_id:str}", guards=READ)
async def get_delivery(
    webhook_id: FromPath[UUID], message_id: MessageId, principal: Caller, ctx: Context
) -> DeliveryDetail:
    """One message: the body as sent and every try."""
    await queries.visible_subscription(ctx, principal, webhook_id)
    return await queries.delivery(ctx, webhook_id, message_id)


@post(
    "/webhooks/{webhook_id:uuid}/deliveries/{message_id:str}/redeliver",
    guards=WRITE,
    status_code=202,
    responses=problem_responses(409),
)
async def redeliver(webhook_id: FromPath[UUID], message_id: MessageId, principal: Caller, ctx: Context) -> DeliveryView:
    """Send the message again, now, under the same ``webhook-id`` (after any earlier message of its order or
    pool still waiting), with a new day of tries."""
    await commands.redeliver(ctx, principal, webhook_id, message_id)
    return await queries.delivery(ctx, webhook_id, message_id)


ROUTES = [list_deliveries, get_delivery, redeliver]
