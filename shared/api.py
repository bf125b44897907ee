"""Helpers every service's routes use: command metadata, If-Match, idempotency keys, waiting."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from shared import tracing
from shared.auth import Principal
from shared.eventstore import Connection, Metadata
from shared.kernel.digits import is_digits
from shared.kernel.errors import InvalidInput, PreconditionFailed
from shared.kernel.ids import new_id
from shared.logs import correlation_id
from shared.service import ServiceContext

IDEMPOTENCY_KEY = "Idempotency-Key"
T = TypeVar("T")

# Route parameters injected by name: ``principal: Caller`` (the authenticated caller) and ``ctx: Context``.
Caller = NamedDependency[Principal]
Context = NamedDependency[ServiceContext]

MAX_POSITION = 2**63 - 1  # event store positions are PostgreSQL bigints

# The query parameters every list and read shares: ``?limit=`` (≤ 500), ``?cursor=``, ``?wait_for_position=``.
Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=500)]
Cursor = Annotated[str | None, QueryParameter(name="cursor", max_length=200)]
WaitFor = Annotated[int | None, QueryParameter(name="wait_for_position", ge=1, le=MAX_POSITION)]


def command_metadata(request: Request[Any, Any, Any], principal: Principal) -> Metadata:
    """Who issued this command (``key:<id>`` for an API key), for which organisation and in which flow; the
    command id is the idempotency key if given; while tracing, the request's span is the events' cause."""
    traced = tracing.current()
    return Metadata(
        correlation_id=correlation_id.get() or str(new_id()),
        actor=principal.actor,
        org=principal.org,
        command_id=request.headers.get(IDEMPOTENCY_KEY) or str(new_id()),
        traceparent=traced.traceparent if traced else None,
        tracestate=traced.tracestate if traced else None,
    )


def if_match(request: Request[Any, Any, Any]) -> int | None:
    """The version an ``If-Match`` header requires, if any."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip().strip('"').removeprefix("W/").strip('"')
    if not is_digits(value):
        raise InvalidInput.of("If-Match", "must be the resource's version, a non-negative integer")
    return int(value)


def check_version(expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise PreconditionFailed(f"the resource is at version {actual}, not {expected}", version=actual)


class StoredResponse(msgspec.Struct, frozen=True):
    status: int
    body: bytes


async def idempotent(
    context: ServiceContext,
    request: Request[Any, Any, Any],
    principal: Principal,
    work: Callable[[Connection | None], Awaitable[tuple[int, Any]]],
) -> StoredResponse:
    """Run ``work`` once per ``Idempotency-Key``: a repeat returns the first response and appends nothing.

    Without the header, ``work`` runs with no connection of its own. With it, ``work`` runs inside the
    transaction that records the key, so the key and the command's events commit together.
    """
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        status, body = await work(None)
        return StoredResponse(status, msgspec.json.encode(body))
    if not 1 <= len(key) <= 200:
        raise InvalidInput.of(IDEMPOTENCY_KEY, "must be 1 to 200 characters")
    fingerprint = hashlib.sha256(request.method.encode() + request.url.path.encode() + await request.body()).hexdigest()
    actor = f"{principal.org}:{principal.sub}"
    stored = await _once(context, actor, key, fingerprint, work)
    context.store.committed()
    return stored


def stored_answer(stored: StoredResponse, view: type[T]) -> Response[T]:
    """An idempotent route's answer, sent as stored; ``view`` is the struct it holds, for the OpenAPI document."""
    return cast("Response[T]", Response(content=stored.body, status_code=stored.status, media_type="application/json"))


async def _once(
    context: ServiceContext,
    actor: str,
    key: str,
    fingerprint: str,
    work: Callable[[Connection | None], Awaitable[tuple[int, Any]]],
) -> StoredResponse:
    schema = context.schema
    async with context.pool.acquire() as connection, connection.transaction():
        fresh = await connection.fetchval(
            f"INSERT INTO {schema}.idempotency (actor, key, fingerprint) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING true",
            actor,
            key,
            fingerprint,
        )
        if not fresh:
            row = await connection.fetchrow(
                f"SELECT fingerprint, status, body FROM {schema}.idempotency WHERE actor = $1 AND key = $2", actor, key
            )
            assert row is not None
            if row["fingerprint"] != fingerprint:
                raise InvalidInput.of(IDEMPOTENCY_KEY, "was already used for a different request")
            return StoredResponse(row["status"], bytes(row["body"]))
        status, body = await work(connection)
        encoded = msgspec.json.encode(body)
        await connection.execute(
            f"UPDATE {schema}.idempotency SET status = $3, body = $4 WHERE actor = $1 AND key = $2",
            actor,
            key,
            status,
            encoded,
        )
        return StoredResponse(status, encoded)


async def wait_for_position(context: ServiceContext, position: int | None) -> None:
    """Read-your-writes: wait (bounded) until this service's read models include ``position``."""
    if position is not None and position > MAX_POSITION:
        raise InvalidInput.of("wait_for_position", f"must be at most {MAX_POSITION}")
    if position is not None and position > 0:
        await context.projector.wait_for(position, timeout=5.0)
