"""A running set of services in one process: pool, NATS, relays, projectors, consumers, workers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext

from shared import bus
from shared.auth import TokenAuthority
from shared.config import Settings
from shared.consumer import Consumer
from shared.database import create_pool
from shared.eventstore import EventStore
from shared.kernel.clock import Clock, SystemClock
from shared.key_uses import KeyUses
from shared.leases import Leases
from shared.migrations import migrate
from shared.outages import Backoff
from shared.projection import Projector
from shared.relay import Relay
from shared.service import Service, ServiceContext, with_platform

log = logging.getLogger("gotong.runtime")
RESTART_FIRST = 0.1  # seconds before a dead task's first restart; doubling up to RESTART_CAP
RESTART_CAP = 5.0
STEADY_SECONDS = 30.0  # a task that ran this long before dying is restarted quickly again


async def cancel(tasks: Sequence[asyncio.Task[Any]], *, timeout: float) -> None:
    """Cancel ``tasks`` and wait up to ``timeout`` seconds for them to end, cancelling again what still runs.

    On Python 3.11 a cancellation can be lost: cancelling a task that awaits another task whose
    ``asyncio.wait_for`` finished at that very moment (nats-py's ``next_msg``) lets the outer task carry on.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    running = {task for task in tasks if not task.done()}
    while running and loop.time() < deadline:
        for task in running:
            task.cancel()
        _, running = await asyncio.wait(running, timeout=min(0.1, max(deadline - loop.time(), 0)))


class Runtime:
    """Starts and stops everything the given services need; ``contexts`` serve the HTTP routes."""

    def __init__(
        self,
        settings: Settings,
        services: Sequence[Service],
        *,
        clock: Clock | None = None,
        tokens: TokenAuthority | None = None,
        run_migrations: bool = True,
    ) -> None:
        if not settings.database_url or not settings.nats_url:
            raise ValueError("the runtime needs a database URL and a NATS URL")
        self.settings = settings
        self.services = [with_platform(s) for s in services]
        self.clock = clock or SystemClock()
        self.tokens = tokens or TokenAuthority.from_settings(settings)
        self.run_migrations = run_migrations
        self.contexts: dict[str, ServiceContext] = {}
        self.relays: dict[str, Relay] = {}
        self.consumers: list[Consumer] = []
        self.leases: list[Leases] = []
        self.pool: asyncpg.Pool | None = None
        self.nats: Client | None = None
        self.js: JetStreamContext | None = None
        self.key_uses: KeyUses | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._listener: asyncpg.Connection | None = None
        self.down: set[str] = set()
        """Background tasks that died and wait for their restart (``/ready`` names them)."""

    async def start(self) -> None:
        assert self.settings.database_url and self.settings.nats_url
        self.pool = await create_pool(self.settings.database_url, size=self.settings.pool_size)
        if self.run_migrations:
            async with self.pool.acquire() as connection:
                for service in self.services:
                    await migrate(connection, service.name, service.migrations)
        self.nats = await bus.connect(self.settings.nats_url)
        self.js = self.nats.jetstream()
        for service in self.services:
            store = EventStore(self.pool, service.name, service.codec)
            projector = Projector(store, service.projections)
            self.contexts[service.name] = ServiceContext(
                service, self.settings, self.pool, store, self.clock, self.tokens, projector
            )
        self.key_uses = await KeyUses.open(self.js, self.settings)
        for context in self.contexts.values():
            context.identities.uses = self.key_uses
        sources = {s.name for s in self.services} | {sub.source for s in self.services for sub in s.subscriptions}
        for source in sorted(sources):
            await bus.ensure_stream(self.js, self.settings, source)
        for service in self.services:
            context = self.contexts[service.name]
            relay = Relay(context.store, self.settings.database_url, self.js, self.settings.nats_prefix)
            self.relays[service.name] = relay
            self._spawn(relay.run, f"relay:{service.name}")
            await context.projector.catch_up()  # parks what it cannot apply: no stored event stops a start
            self._spawn(context.projector.run, f"projector:{service.name}")
            consumers = [
                Consumer(
                    self.pool,
                    context.store,
                    self.js,
                    self.settings.nats_prefix,
                    subscription,
                    max_deliveries=self.settings.max_deliveries,
                )
                for subscription in service.subscriptions
            ]
            if consumers:  # each consumed by one replica at a time (see ``shared.leases``)
                leases = Leases(self.settings.database_url, service.name, consumers)
                self.leases.append(leases)
                self._spawn(leases.run, f"leases:{service.name}")
            for consumer in consumers:
                self.consumers.append(consumer)
                self._spawn(consumer.run, f"consumer:{consumer.durable}")
            for worker in service.workers:
                name = f"worker:{service.name}:{getattr(worker, '__name__', 'worker')}"
                self._spawn(functools.partial(worker, context), name)
        self._spawn(self._listen, "listener")

    def _spawn(self, run: Callable[[], Awaitable[Any]], name: str) -> None:
        """Run ``run()`` as a supervised task named ``name``: restarted (with backoff) whenever it dies."""
        self._tasks.append(asyncio.create_task(self._supervise(run, name), name=name))

    async def _supervise(self, run: Callable[[], Awaitable[Any]], name: str) -> None:
        """Background tasks survive outages on their own; one that dies anyway (a bug, an error no one
        expected) is logged once with its traceback, counted as down, and started again."""
        loop = asyncio.get_running_loop()
        delay = RESTART_FIRST
        while True:
            started = loop.time()
            try:
                await run()
                log.error("background task %s returned; starting it again", name)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s died; starting it again in %.1f s", name, delay)
            if loop.time() - started > STEADY_SECONDS:
                delay = RESTART_FIRST
            self.down.add(name)
            try:
                await asyncio.sleep(delay)
            finally:
                self.down.discard(name)
            delay = min(delay * 2, RESTART_CAP)

    async def _listen(self) -> None:
        """Wake relays and projectors when their schema's events commit (polling remains the fallback);
        a lost LISTEN connection is opened again once PostgreSQL is back."""
        assert self.settings.database_url
        backoff = Backoff("LISTEN for new events (polling meanwhile)", log)
        while True:
            lost = asyncio.Event()
            try:
                self._listener = await asyncpg.connect(self.settings.database_url)
                self._listener.add_termination_listener(lambda _, lost=lost: lost.set())
                for name, context in self.contexts.items():
                    relay = self.relays[name]
                    projector = context.projector

                    def wake(*_: object, relay: Relay = relay, projector: Projector = projector) -> None:
                        relay.wake()
                        projector.wake()

                    await self._listener.add_listener(context.store.notify_channel, wake)
                    wake()  # whatever committed while no one listened
                backoff.succeeded()
                await lost.wait()
                raise ConnectionError("the LISTEN connection was lost")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if self._listener is not None:
                    self._listener.terminate()
                    self._listener = None
                await backoff.wait(error)

    async def is_ready(self) -> dict[str, bool]:
        checks = {"postgres": False, "nats": bool(self.nats and self.nats.is_connected)}
        if self.pool is not None:
            with contextlib.suppress(Exception):
                checks["postgres"] = await self.pool.fetchval("SELECT true", timeout=2) is True
        checks["consumers"] = all(c.caught_up.is_set() for c in self.consumers)
        checks["tasks"] = not self.down
        return checks

    async def readiness_detail(self) -> dict[str, Any]:
        """What ``/ready`` shows besides its checks: tasks waiting for a restart, events each projection parked,
        the consumers this replica runs (the others' leases are held by other replicas)."""
        parked: dict[str, list[dict[str, object]]] = {}
        with contextlib.suppress(Exception):  # PostgreSQL away: the checks say so
            for name, context in self.contexts.items():
                for projection, letters in (await asyncio.wait_for(context.projector.parked(), 2)).items():
                    parked[f"{name}.{projection}"] = letters
        consumes = sorted(durable for leases in self.leases for durable in leases.held)
        return {"down": sorted(self.down), "parked": parked, "consumes": consumes}

    async def stop(self) -> None:
        """Stop quickly and completely: cancel the tasks, then close NATS and PostgreSQL connections."""
        await cancel(self._tasks, timeout=5)
        self._tasks.clear()
        if self._listener is not None:
            self._listener.terminate()
        if self.key_uses is not None:
            await self.key_uses.settled()
        if self.nats is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nats.close(), 5)
        if self.pool is not None:
            try:
                await asyncio.wait_for(self.pool.close(), 5)
            except (TimeoutError, asyncpg.PostgresError, OSError):
                self.pool.terminate()
