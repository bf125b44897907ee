"""Operator tools: dead letters (list, replay) and projection rebuilds, from the CLI and admin routes.

A service has two kinds of dead letters, numbered together: events one of its consumers could not handle
(``dead_letters``) and events one of its projections could not apply (``projection_dead_letters``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import get, post
from litestar.params import PathParameter

from shared.api import Caller, Context
from shared.auth import Role
from shared.config import Settings
from shared.database import create_pool
from shared.eventstore import EventStore
from shared.inbox import replay
from shared.kernel.errors import Conflict, NotFound
from shared.outages import is_outage
from shared.problems import problem_responses
from shared.projection import PARKED, replay_parked
from shared.rebuild import RebuildReport, rebuild
from shared.service import Service, ServiceContext, load_services


class DeadLetter(msgspec.Struct, frozen=True):
    id: int
    consumer: str
    event_id: str
    subject: str
    error: str
    deliveries: int
    failed_at: str
    replayed_at: str | None


async def _dead_letters(pool: asyncpg.Pool, schema: str) -> list[DeadLetter]:
    rows = await pool.fetch(
        f"SELECT id, consumer, event_id::text, subject, error, deliveries, failed_at, replayed_at "
        f"FROM {schema}.dead_letters ORDER BY id"
    )
    return [
        DeadLetter(
            r["id"],
            r["consumer"],
            r["event_id"],
            r["subject"],
            r["error"],
            r["deliveries"],
            r["failed_at"].isoformat(),
            r["replayed_at"].isoformat() if r["replayed_at"] else None,
        )
        for r in rows
    ]


class ProjectionDeadLetter(msgspec.Struct, frozen=True):
    """An event a projection could not apply; the projection went on without it."""

    id: int
    projection: str
    event_id: str
    event_type: str
    stream_id: str
    stream_version: int
    position: int
    error: str
    failed_at: str


async def _projection_dead_letters(pool: asyncpg.Pool, schema: str) -> list[ProjectionDeadLetter]:
    rows = await pool.fetch(
        f"SELECT id, projection, event_id::text, event_type, stream_id, stream_version, position, error, failed_at "
        f"FROM {schema}.{PARKED} ORDER BY id"
    )
    return [
        ProjectionDeadLetter(
            r["id"],
            r["projection"],
            r["event_id"],
            r["event_type"],
            r["stream_id"],
            r["stream_version"],
            r["position"],
            r["error"],
            r["failed_at"].isoformat(),
        )
        for r in rows
    ]


async def _replay(pool: asyncpg.Pool, service: Service, letter_id: int) -> bool:
    """Replay a dead letter of either kind; False if there is none waiting with that id.

    Raises ``Conflict`` when a projection still cannot apply its event (the letter stays).
    """
    store = EventStore(pool, service.name, service.codec)
    consumer = await pool.fetchval(f"SELECT consumer FROM {service.name}.dead_letters WHERE id = $1", letter_id)
    if consumer is not None:
        subscription = next((s for s in service.subscriptions if s.name == consumer), None)
        return subscription is not None and await replay(pool, store, subscription, letter_id)
    name = await pool.fetchval(f"SELECT projection FROM {service.name}.{PARKED} WHERE id = $1", letter_id)
    projection = next((p for p in service.projections if p.name == name), None)
    if projection is None:
        return False
    try:
        return await replay_parked(store, projection, letter_id)
    except Exception as error:
        if is_outage(error):
            raise
        raise Conflict(
            f"dead letter {letter_id} still cannot be applied to {projection.name}: {type(error).__name__}: {error}",
            problem="still-failing",
        ) from error


@asynccontextmanager
async def _service_pool(settings: Settings, name: str) -> AsyncIterator[tuple[Service, asyncpg.Pool]]:
    assert settings.database_url
    (service,) = load_services([name])
    pool = await create_pool(settings.database_url, size=2, application="gotong-cli")
    try:
        yield service, pool
    finally:
        await pool.close()


async def list_dead_letters(settings: Settings, service_name: str) -> list[dict[str, Any]]:
    """Both kinds, each with its ``kind``: ``consumer`` or ``projection``."""
    async with _service_pool(settings, service_name) as (_, pool):
        consumers = [
            {"kind": "consumer", **msgspec.structs.asdict(letter)} for letter in await _dead_letters(pool, service_name)
        ]
        projections = [
            {"kind": "projection", **msgspec.structs.asdict(letter)}
            for letter in await _projection_dead_letters(pool, service_name)
        ]
    return sorted([*consumers, *projections], key=lambda letter: int(letter["id"]))


async def replay_dead_letter(settings: Settings, service_name: str, letter_id: int) -> tuple[bool, str]:
    """Replay a dead letter of either kind: whether it worked, and what to tell the operator."""
    async with _service_pool(settings, service_name) as (service, pool):
        try:
            done = await _replay(pool, service, letter_id)
        except Conflict as still:
            return False, still.detail
    if done:
        return True, f"dead letter {letter_id} replayed"
    return False, f"dead letter {letter_id} not found or already replayed"


async def rebuild_projection(
    settings: Settings, service_name: str, projection_name: str, *, verify_only: bool = False
) -> RebuildReport:
    async with _service_pool(settings, service_name) as (service, pool):
        projection = next((p for p in service.projections if p.name == projection_name), None)
        if projection is None:
            names = ", ".join(p.name for p in service.projections) or "none"
            raise LookupError(f"{service_name} has no projection {projection_name!r} (it has: {names})")
        return await rebuild(EventStore(pool, service.name, service.codec), projection, verify_only=verify_only)


LetterId = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]


class DeadLetterPage(msgspec.Struct, frozen=True):
    items: list[DeadLetter]
    projections: list[ProjectionDeadLetter] = []


class ReplayResult(msgspec.Struct, frozen=True):
    id: int
    replayed: bool


@get("/dead-letters", responses=problem_responses(401, 403))
async def dead_letters(principal: Caller, ctx: Context) -> DeadLetterPage:
    """Events this service's handlers (``items``) and projections (``projections``) could not take, newest
    last (admin only)."""
    principal.require(Role.ADMIN)
    return DeadLetterPage(
        await _dead_letters(ctx.pool, ctx.schema), await _projection_dead_letters(ctx.pool, ctx.schema)
    )


@post("/dead-letters/{letter_id:int}/replay", responses=problem_responses(401, 403, 404, 409))
async def replay_letter(letter_id: LetterId, principal: Caller, ctx: Context) -> ReplayResult:
    """Run a dead letter's handler again, or apply a parked event to its projection again (admin only);
    409 if the projection still cannot apply it."""
    principal.require(Role.ADMIN)
    if not await _replay(ctx.pool, ctx.service, letter_id):
        raise NotFound(f"no dead letter {letter_id} waiting for replay in {ctx.schema}")
    return ReplayResult(letter_id, True)


def admin_routes() -> list[Any]:
    return [dead_letters, replay_letter]


__all__ = ["ServiceContext", "admin_routes", "list_dead_letters", "rebuild_projection", "replay_dead_letter"]
