"""A running set of services in one process: pool, NATS, relays, projectors, consumers, workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext

from shared import bus
from shared.auth import TokenAuthority
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.consumer import Consumer
from shared.database import create_pool
from shared.eventstore import EventStore
from shared.migrations import migrate
from shared.projection import Projector
from shared.relay import Relay
from shared.service import Service, ServiceContext

log = logging.getLogger("gotong.runtime")


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
        self.services = list(services)
        self.clock = clock or SystemClock()
        self.tokens = tokens or TokenAuthority.from_settings(settings)
        self.run_migrations = run_migrations
        self.contexts: dict[str, ServiceContext] = {}
        self.relays: dict[str, Relay] = {}
        self.consumers: list[Consumer] = []
        self.pool: asyncpg.Pool | None = None
        self.nats: Client | None = None
        self.js: JetStreamContext | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._listener: asyncpg.Connection | None = None

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
        sources = {s.name for s in self.services} | {sub.source for s in self.services for sub in s.subscriptions}
        for source in sorted(sources):
            await bus.ensure_stream(self.js, self.settings, source)
        for service in self.services:
            context = self.contexts[service.name]
            relay = Relay(context.store, self.settings.database_url, self.js, self.settings.nats_prefix)
            self.relays[service.name] = relay
            self._spawn(relay.run(), f"relay:{service.name}")
            await context.projector.catch_up()
            self._spawn(context.projector.run(), f"projector:{service.name}")
            for subscription in service.subscriptions:
                consumer = Consumer(
                    self.pool,
                    context.store,
                    self.js,
                    self.settings.nats_prefix,
                    subscription,
                    max_deliveries=self.settings.max_deliveries,
                )
                self.consumers.append(consumer)
                self._spawn(consumer.run(), f"consumer:{consumer.durable}")
            for worker in service.workers:
                self._spawn(worker(context), f"worker:{service.name}:{getattr(worker, '__name__', 'worker')}")
        await self._listen()

    def _spawn(self, coroutine: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    async def _listen(self) -> None:
        """Wake relays and projectors when their schema's events commit (polling remains the fallback)."""
        assert self.settings.database_url
        try:
            self._listener = await asyncpg.connect(self.settings.database_url)
            for name, context in self.contexts.items():
                relay = self.relays[name]
                projector = context.projector

                def wake(*_: object, relay: Relay = relay, projector: Projector = projector) -> None:
                    relay.wake()
                    projector.wake()

                await self._listener.add_listener(context.store.notify_channel, wake)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("LISTEN unavailable, relying on polling: %s", error)

    async def is_ready(self) -> dict[str, bool]:
        checks = {"postgres": False, "nats": bool(self.nats and self.nats.is_connected)}
        if self.pool is not None:
            with contextlib.suppress(Exception):
                checks["postgres"] = await self.pool.fetchval("SELECT true", timeout=2) is True
        checks["consumers"] = all(c.caught_up.is_set() for c in self.consumers)
        return checks

    async def stop(self) -> None:
        """Stop quickly and completely: cancel the tasks, then close NATS and PostgreSQL connections."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks.clear()
        if self._listener is not None:
            self._listener.terminate()
        if self.nats is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nats.close(), 5)
        if self.pool is not None:
            try:
                await asyncio.wait_for(self.pool.close(), 5)
            except (TimeoutError, asyncpg.PostgresError, OSError):
                self.pool.terminate()
