"""The WhatsApp webhook: Meta's verification handshake and its signed event notifications.

Open routes (no bearer token): Meta cannot send one. ``GET`` answers the subscription handshake with the
challenge when the verify token matches. ``POST`` refuses any body whose ``X-Hub-Signature-256`` is not the
HMAC-SHA256 of the raw body with the app secret (401), then stores each message and status of the
notification once (Meta redelivers) and answers 200 at once; the inbound worker processes them after.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter

from services.notifications.channels.whatsapp import signature_valid
from services.notifications.inbound import store_notification
from services.notifications.settings import settings_of
from shared.api import Context
from shared.kernel.errors import Forbidden, MalformedRequest, Unauthenticated
from shared.problems import problem_responses

PATH = "/v1/channels/whatsapp/webhook"
MAX_BODY = 262_144
"""Meta's notifications are a few kilobytes; anything much larger is not one."""

Token = Annotated[str | None, QueryParameter(name="hub.verify_token", max_length=200)]
Mode = Annotated[str | None, QueryParameter(name="hub.mode", max_length=50)]
Challenge = Annotated[str | None, QueryParameter(name="hub.challenge", max_length=200)]


class Received(msgspec.Struct, frozen=True, kw_only=True):
    """How many messages and statuses of the notification were new (a redelivery stores none)."""

    stored: int


@get(PATH, media_type="text/plain", responses=problem_responses(403), summary="WhatsApp webhook verification")
async def verify_webhook(ctx: Context, mode: Mode = None, token: Token = None, challenge: Challenge = None) -> str:
    """Meta's subscription handshake: ``hub.mode=subscribe`` with the configured verify token → the challenge."""
    whatsapp = settings_of(ctx.store).whatsapp
    if whatsapp is None or mode != "subscribe" or token != whatsapp.verify_token or not challenge:
        raise Forbidden("the verify token does not match, or no WhatsApp number is configured")
    return challenge


@post(
    PATH,
    status_code=200,
    request_max_body_size=MAX_BODY,
    responses=problem_responses(400, 401, 413),
    summary="WhatsApp webhook notifications",
)
async def receive_webhook(request: Request[Any, Any, Any], ctx: Context) -> Received:
    """A notification from Meta (messages and statuses), signed with the app secret in ``X-Hub-Signature-256``.

    Answered at once; the messages are processed in the background, each once however often Meta redelivers."""
    whatsapp = settings_of(ctx.store).whatsapp
    body = await request.body()
    if whatsapp is None or not signature_valid(whatsapp.app_secret, body, request.headers.get("X-Hub-Signature-256")):
        raise Unauthenticated("X-Hub-Signature-256 must be the HMAC-SHA256 of the body with the app's secret")
    try:
        notification = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise MalformedRequest(f"the body is not JSON: {error}") from None
    if not isinstance(notification, dict):
        raise MalformedRequest("the body must be a JSON object (a WhatsApp Business Account notification)")
    stored = await store_notification(ctx, notification)
    return Received(stored=stored)


ROUTES = [verify_webhook, receive_webhook]
