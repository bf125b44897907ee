"""Routes of webhook subscriptions: make one (its secret shown once), list, read, change, delete, rotate the
secret, ping; and the public list of event types."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from events.webhooks import EVENT_TYPES
from services.webhooks import commands
from services.webhooks.api.bodies import NewSubscription, SubscriptionPatch, given
from services.webhooks.read import queries, views
from services.webhooks.read.views import EventTypeView, PingView, RotatedSecret, SubscriptionView, event_type_view
from shared.api import Caller, Context, Cursor, Limit, command_metadata, if_match
from shared.auth import Role
from shared.guards import Scope, allow
from shared.pages import Page
from shared.problems import problem_responses

READ = [allow(Role.BUYER, Role.AGGREGATOR, scope=Scope.WEBHOOKS_READ)]
WRITE = [allow(Role.BUYER, Role.AGGREGATOR, scope=Scope.WEBHOOKS_WRITE)]
OrgFilter = Annotated[
    str | None, QueryParameter(name="org", min_length=1, max_length=100, description="operators: one organisation's")
]


@get("/webhook-event-types", guards=READ)
async def list_event_types() -> Page[EventTypeView]:
    """Every event type a subscription can ask for, who receives it, and the event structs it carries (one
    page: the list is short and fixed)."""
    return Page(items=[event_type_view(event_type) for event_type in EVENT_TYPES], next_cursor=None)


@post("/webhooks", guards=WRITE, responses=problem_responses(409))
async def create_subscription(
    data: JSONBody[NewSubscription], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> views.NewSubscription:
    """Subscribe a URL to event types. ``secret`` in the answer verifies the messages' signatures and is shown
    this once; the URL must be https:// and resolve to public addresses only."""
    issued = await commands.subscribe(
        ctx,
        principal,
        command_metadata(request, principal),
        url=data.url,
        event_types=list(data.event_types),
        description=data.description,
        enabled=data.enabled,
        org=data.org,
        audience=data.audience,
    )
    view = await queries.subscription(ctx, principal, issued.subscription_id, issued.saved.position)
    return views.NewSubscription(secret=issued.secret, subscription=view)


@get("/webhooks", guards=READ)
async def list_subscriptions(
    principal: Caller, ctx: Context, limit: Limit = 50, cursor: Cursor = None, org: OrgFilter = None
) -> Page[SubscriptionView]:
    """The organisation's subscriptions, oldest first (operators: every organisation's, or ``org``'s)."""
    return await queries.subscriptions_page(ctx, principal, limit, cursor, org)


@get("/webhooks/{webhook_id:uuid}", guards=READ)
async def get_subscription(webhook_id: FromPath[UUID], principal: Caller, ctx: Context) -> SubscriptionView:
    """A subscription, its health (failures since the last success) and, if so, why it was disabled."""
    return await queries.subscription(ctx, principal, webhook_id)


@patch("/webhooks/{webhook_id:uuid}", guards=WRITE, responses=problem_responses(409, 412))
async def update_subscription(
    webhook_id: FromPath[UUID],
    data: JSONBody[SubscriptionPatch],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> SubscriptionView:
    """Change the URL, event types, description, or ``enabled`` (``true`` re-enables a disabled subscription and
    sends what waited); ``If-Match: <version>`` makes it conditional."""
    saved = await commands.change(
        ctx,
        principal,
        command_metadata(request, principal),
        webhook_id,
        expected=if_match(request),
        url=given(data.url),
        event_types=given(data.event_types),
        description=given(data.description),
        enabled=given(data.enabled),
    )
    return await queries.subscription(ctx, principal, webhook_id, saved.position)


@delete("/webhooks/{webhook_id:uuid}", guards=WRITE, responses=problem_responses(412))
async def delete_subscription(
    webhook_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> None:
    """Delete the subscription, its secrets and its delivery log."""
    metadata = command_metadata(request, principal)
    await commands.delete(ctx, principal, metadata, webhook_id, expected=if_match(request))


@post("/webhooks/{webhook_id:uuid}/rotate-secret", guards=WRITE, status_code=200)
async def rotate_secret(
    webhook_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> RotatedSecret:
    """A new secret, shown this once. For a day, messages carry two signatures (``v1,<new> v1,<old>``), so the
    receiver can switch secrets without losing one; a secret older than the previous stops at once."""
    issued, until = await commands.rotate_secret(ctx, principal, command_metadata(request, principal), webhook_id)
    view = await queries.subscription(ctx, principal, webhook_id, issued.saved.position)
    return RotatedSecret(secret=issued.secret, previous_secret_valid_until=until, subscription=view)


@post("/webhooks/{webhook_id:uuid}/ping", guards=WRITE, status_code=202, responses=problem_responses(409))
async def ping(
    webhook_id: FromPath[UUID], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> PingView:
    """Send a test message (``webhook.ping``) to the subscription's URL; its delivery shows under ``id``."""
    message_id, event_id = await commands.ping(ctx, principal, command_metadata(request, principal), webhook_id)
    return PingView(id=message_id, subscription_id=webhook_id, event_id=event_id)


ROUTES = [
    list_event_types,
    create_subscription,
    list_subscriptions,
    get_subscription,
    update_subscription,
    delete_subscription,
    rotate_secret,
    ping,
]
