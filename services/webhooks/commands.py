"""Webhooks' use cases, one function each: who may, then load, decide, append (with the tables beside).

A subscription is managed by its organisation's admins (people with ``org_admin`` in the identity mirror),
by the organisation's API keys holding ``webhooks:write`` (the route's guard checks the scope), and by
Gotong's operators, who name the organisation they act for. Any member of the organisation, and its keys
with ``webhooks:read``, may read them. Another organisation's subscription is not found (404).

Secrets are written beside the events that make them, in the same transaction, and shown once: no command
here runs under ``Idempotency-Key``, whose stored answer would keep the secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from events.webhooks import Audience
from services.webhooks import outbox
from services.webhooks.domain.addresses import AddressPolicy, EndpointRefused
from services.webhooks.domain.signing import KEY_BYTES, secret_text
from services.webhooks.domain.subscription import (
    SUBSCRIPTION,
    Change,
    Delete,
    Disable,
    Ping,
    RotateSecret,
    Subscribe,
    Subscription,
    SubscriptionCommand,
    event_type_errors,
    subscription_stream,
)
from services.webhooks.read.queries import visible_subscription
from services.webhooks.transport import vet
from shared.api import check_version, wait_for_position
from shared.auth import Principal
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Connection, Metadata
from shared.kernel.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from shared.kernel.ids import new_id
from shared.service import ServiceContext

SCHEMA = outbox.SCHEMA
PREVIOUS_SECRET_VALID = timedelta(hours=24)
DISPATCHER = "webhooks:dispatcher"

Extra = Callable[[Connection, Subscription, Subscription], Awaitable[None]]
"""Table work done in a command's transaction, given the state before and after."""


@dataclass(frozen=True)
class Saved:
    state: Subscription
    version: int
    position: int


@dataclass(frozen=True)
class Issued:
    """A command that made a secret, which is shown this once."""

    saved: Saved
    secret: str

    @property
    def subscription_id(self) -> UUID:
        assert self.saved.state.subscription_id is not None
        return self.saved.state.subscription_id


def policy(ctx: ServiceContext) -> AddressPolicy:
    settings = ctx.settings
    return AddressPolicy.of(settings.webhooks_allow_private, allow_http=settings.webhooks_allow_http)


async def may_manage(ctx: ServiceContext, principal: Principal, org: str) -> None:
    """Refuse (403) a caller who may read ``org``'s subscriptions but not change them."""
    if principal.is_admin or principal.key_id is not None:
        return
    memberships = await ctx.identities.memberships(principal.sub)
    if not any(m.org == org and m.org_admin for m in memberships):
        raise Forbidden(f"only an admin of {org}, or its API key with webhooks:write, manages its webhooks")


def subscriber(principal: Principal, org: str | None, audience: Audience | None) -> tuple[str, Audience]:
    """For whom a new subscription is made: the caller's own organisation, or the one an operator names."""
    if principal.is_admin:
        errors = [
            FieldError(name, "an operator subscribes on behalf of an organisation: name it and its audience")
            for name, value in (("org", org), ("audience", audience))
            if value is None
        ]
        if errors:
            raise InvalidInput(errors)
        assert org is not None and audience is not None
        return org, audience
    if org is not None and org != principal.org:
        raise Forbidden(f"you subscribe for your own organisation, {principal.org}, not {org}")
    own: Audience = "aggregator" if principal.role.value == "aggregator" else "buyer"
    if audience is not None and audience != own:
        raise InvalidInput.of("audience", f"{principal.org} receives {own}s' events")
    return principal.org, own


async def url_errors(ctx: ServiceContext, url: str | None) -> list[FieldError]:
    if url is None:
        return []
    try:
        await vet(policy(ctx), url)
    except EndpointRefused as refused:
        return [FieldError("url", str(refused))]
    return []


async def _run(
    ctx: ServiceContext,
    metadata: Metadata,
    subscription_id: UUID,
    command: SubscriptionCommand,
    *,
    expected: int | None = None,
    extra: Extra | None = None,
) -> Saved:
    stream = subscription_stream(subscription_id)

    async def work(unit: UnitOfWork) -> Subscription:
        state = await unit.load(SUBSCRIPTION, stream)
        if not isinstance(command, Subscribe):
            if not state.exists:
                raise NotFound(f"no webhook subscription {subscription_id}")
            check_version(expected, await unit.version(stream))
        new_state, _ = await unit.execute(SUBSCRIPTION, stream, command)
        if extra is not None:
            await extra(unit.connection, state, new_state)
        return new_state

    outcome = await run_command(ctx.store, work, metadata=metadata)
    version = outcome.versions.get(stream)
    if version is None:  # nothing changed
        version = await ctx.store.stream_version(stream)
    else:
        await wait_for_position(ctx, outcome.position)
    return Saved(outcome.value, version, outcome.position)


async def subscribe(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    url: str,
    event_types: list[str],
    description: str,
    enabled: bool,
    org: str | None,
    audience: Audience | None,
) -> Issued:
    org, audience = subscriber(principal, org, audience)
    await may_manage(ctx, principal, org)
    errors = [*await url_errors(ctx, url), *event_type_errors(event_types, audience)]
    if errors:
        raise InvalidInput(errors)
    subscription_id, key, now = new_id(), secrets.token_bytes(KEY_BYTES), ctx.clock.now()
    command = Subscribe(
        subscription_id=subscription_id,
        org=org,
        audience=audience,
        url=url,
        event_types=event_types,
        description=description,
        enabled=enabled,
        by=principal.actor,
        at=now,
    )

    async def keep_secret(connection: Connection, before: Subscription, after: Subscription) -> None:
        await connection.execute(
            f"INSERT INTO {SCHEMA}.secrets (subscription_id, version, secret, created_at) VALUES ($1, 1, $2, $3)",
            subscription_id,
            secret_text(key),
            now,
        )

    saved = await _run(ctx, metadata, subscription_id, command, extra=keep_secret)
    return Issued(saved, secret_text(key))


async def _managed(ctx: ServiceContext, principal: Principal, subscription_id: UUID) -> asyncpg.Record:
    """A subscription the caller may change, as read (404 if the caller may not see it, 403 if only read it)."""
    row = await visible_subscription(ctx, principal, subscription_id)
    await may_manage(ctx, principal, row["org"])
    return row


async def change(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    subscription_id: UUID,
    *,
    expected: int | None,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    enabled: bool | None,
) -> Saved:
    """Change the URL, event types, description or whether it is enabled; enabling resumes what was waiting."""
    row = await _managed(ctx, principal, subscription_id)
    audience: Audience = "aggregator" if row["audience"] == "aggregator" else "buyer"
    errors = [
        *await url_errors(ctx, url),
        *(event_type_errors(event_types, audience) if event_types is not None else []),
    ]
    if errors:
        raise InvalidInput(errors)
    now = ctx.clock.now()
    command = Change(
        url=url, event_types=event_types, description=description, enabled=enabled, by=principal.actor, at=now
    )

    async def resume(connection: Connection, before: Subscription, after: Subscription) -> None:
        if after.enabled and not before.enabled:
            await outbox.resume(connection, subscription_id, now)

    return await _run(ctx, metadata, subscription_id, command, expected=expected, extra=resume)


async def delete(
    ctx: ServiceContext, principal: Principal, metadata: Metadata, subscription_id: UUID, *, expected: int | None
) -> None:
    """Delete the subscription with its secrets and its delivery log; nothing more is sent to it."""
    await _managed(ctx, principal, subscription_id)

    async def forget(connection: Connection, before: Subscription, after: Subscription) -> None:
        await outbox.forget(connection, subscription_id)

    command = Delete(by=principal.actor, at=ctx.clock.now())
    await _run(ctx, metadata, subscription_id, command, expected=expected, extra=forget)


async def rotate_secret(
    ctx: ServiceContext, principal: Principal, metadata: Metadata, subscription_id: UUID
) -> tuple[Issued, datetime]:
    """A new secret; the current one keeps signing for a day beside it, and any older one stops now."""
    await _managed(ctx, principal, subscription_id)
    key, now = secrets.token_bytes(KEY_BYTES), ctx.clock.now()
    until = now + PREVIOUS_SECRET_VALID

    async def swap(connection: Connection, before: Subscription, after: Subscription) -> None:
        await connection.execute(
            f"DELETE FROM {SCHEMA}.secrets WHERE subscription_id = $1 AND expires_at IS NOT NULL", subscription_id
        )
        await connection.execute(
            f"UPDATE {SCHEMA}.secrets SET expires_at = $2 WHERE subscription_id = $1", subscription_id, until
        )
        await connection.execute(
            f"INSERT INTO {SCHEMA}.secrets (subscription_id, version, secret, created_at) VALUES ($1, $2, $3, $4)",
            subscription_id,
            after.secret_version,
            secret_text(key),
            now,
        )

    command = RotateSecret(previous_valid_until=until, by=principal.actor, at=now)
    saved = await _run(ctx, metadata, subscription_id, command, extra=swap)
    return Issued(saved, secret_text(key)), until


async def ping(
    ctx: ServiceContext, principal: Principal, metadata: Metadata, subscription_id: UUID
) -> tuple[str, UUID]:
    """Ask for a test message; returns its ``webhook-id`` and the event's id (the message is queued when the
    event comes back from the bus, within moments)."""
    await _managed(ctx, principal, subscription_id)
    saved = await _run(ctx, metadata, subscription_id, Ping(by=principal.actor, at=ctx.clock.now()))
    stream = subscription_stream(subscription_id)
    record = (await ctx.store.read_stream(stream, after_version=saved.version - 1))[0]
    return outbox.message_id(record.event_id, subscription_id), record.event_id


async def redeliver(ctx: ServiceContext, principal: Principal, subscription_id: UUID, message_id: str) -> None:
    """Send a message again under its own ``webhook-id``, at once, with a new day of tries."""
    row = await _managed(ctx, principal, subscription_id)
    if not row["enabled"]:
        raise Conflict("the subscription is disabled; enable it (PATCH enabled: true) to send again")
    async with ctx.pool.acquire() as connection:
        if not await outbox.redeliver(connection, subscription_id, message_id, ctx.clock.now()):
            raise NotFound(f"no delivery {message_id} of webhook subscription {subscription_id}")


async def disable(
    ctx: ServiceContext, subscription_id: UUID, *, reason: str, failures: int, since: datetime, last_error: str
) -> None:
    """Stop sending to a subscription that keeps failing (the dispatcher's call); a second call changes nothing."""
    metadata = Metadata(actor=DISPATCHER, command_id=f"{DISPATCHER}:disable:{subscription_id}:{failures}")
    command = Disable(
        reason=reason, consecutive_failures=failures, failing_since=since, last_error=last_error, at=ctx.clock.now()
    )
    try:
        await _run(ctx, metadata, subscription_id, command)
    except NotFound:
        return  # deleted meanwhile
