"""Which replica consumes which subscription: each subscription one replica at a time, the subscriptions shared
out evenly among the replicas of the service that are up.

Replicas fetching from one durable consumer compete for its messages: a stream's events then land in different
replicas' batches, the later ones arrive before their predecessors are handled, wait for a redelivery and are
fetched again; with two replicas a bulk of events went at a fifth of one replica's rate. So a replica consumes a
subscription only while it holds the subscription's lease: a session advisory lock on a connection of its own
(asyncpg's pool would release it, as for the relay). Each replica also holds a membership lock, one of
``MEMBER_SLOTS`` per service, so that every replica counts the replicas that are up (in ``pg_locks``) and holds
no more than its share of the subscriptions, rounded up: it gives one back each round while it holds more (when
another replica has started), and takes free ones while it holds fewer (when one has stopped or died, whose
locks PostgreSQL released with its connection).

A lease is an economy, not the guarantee: were two replicas ever to consume one subscription at once (say, while
PostgreSQL has not yet seen a dead replica's connection go), the inbox would still give every event its effect
once and in its stream's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Sequence

import asyncpg

from shared import logs
from shared.consumer import Consumer
from shared.outages import Backoff, is_outage

log = logging.getLogger("gotong.leases")
MEMBER_SLOTS = 64  # replicas of one service that can count themselves in
ROUND_SECONDS = 1.0  # how often a replica looks at the replicas up and the leases it holds
HAND_BACK_SECONDS = 10.0  # how long a consumer may take to finish its batch before its lease is let go anyway


def lease_key(database: str, schema: str, what: str) -> int:
    """The session advisory lock key of ``what`` in a service's schema: a consumer's lease, a membership slot,
    the relay's lock."""
    return zlib.crc32(f"{database}:{schema}:{what}".encode()) & 0x7FFF_FFFF


class Leases:
    """The leases of one service's consumers in this replica; run ``run()`` as a task beside them."""

    def __init__(
        self, database_url: str, schema: str, consumers: Sequence[Consumer], *, every: float = ROUND_SECONDS
    ) -> None:
        self.database_url = database_url
        self.schema = schema
        self.consumers = list(consumers)
        self.every = every
        self.replicas = 0
        """The replicas of the service up at the last round (this one included)."""
        self._slot: int | None = None
        for consumer in self.consumers:
            consumer.leased.clear()  # until this replica holds the lease

    @property
    def held(self) -> list[str]:
        """The durable names of the consumers this replica runs."""
        return [consumer.durable for consumer in self.consumers if consumer.leased.is_set()]

    async def run(self) -> None:
        """Hold this replica's share of the leases until cancelled; on losing the connection, stop consuming
        at once and contend again once PostgreSQL is back."""
        logs.service.set(self.schema)
        backoff = Backoff(f"consumer leases of {self.schema}", log)
        while True:
            settings = {"application_name": f"gotong-leases-{self.schema}"}
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self.database_url, server_settings=settings)
                database = await connection.fetchval("SELECT current_database()")
                await self._join(connection, database)
                while True:
                    await self._round(connection, database)
                    backoff.succeeded()
                    await asyncio.sleep(self.every)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failure = error
                if not is_outage(error):
                    log.exception("consumer leases of %s failed", self.schema)
            finally:
                self._let_go()  # and the locks go with the connection: another replica may take them now
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            await backoff.wait(failure)

    async def _join(self, connection: asyncpg.Connection, database: str) -> None:
        """Take a free membership slot, so the other replicas count this one."""
        self._slot = None
        for slot in range(MEMBER_SLOTS):
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", self._member(database, slot)):
                self._slot = slot
                return
        log.warning("%s: more than %d replicas; this one is not counted by the others", self.schema, MEMBER_SLOTS)

    async def _round(self, connection: asyncpg.Connection, database: str) -> None:
        members = [self._member(database, slot) for slot in range(MEMBER_SLOTS)]
        up = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objsubid = 1 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND objid = ANY($1::oid[])",
            members,
        )
        self.replicas = max(1, up + (self._slot is None))
        share = -(-len(self.consumers) // self.replicas)
        held = [consumer for consumer in self.consumers if consumer.leased.is_set()]
        if len(held) > share:
            await self._hand_back(connection, database, held[-1])
            return
        for consumer in self._preferred():
            if len(held) >= share:
                break
            if not consumer.leased.is_set() and await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", lease_key(database, self.schema, consumer.durable)
            ):
                consumer.leased.set()
                held.append(consumer)
                log.info("%s: this replica consumes %s (%d replicas up)", self.schema, consumer.durable, self.replicas)

    async def _hand_back(self, connection: asyncpg.Connection, database: str, consumer: Consumer) -> None:
        consumer.leased.clear()
        with contextlib.suppress(TimeoutError):  # stuck in an outage: it consumes nothing meanwhile either
            async with asyncio.timeout(HAND_BACK_SECONDS):
                await consumer.paused.wait()
        await connection.fetchval("SELECT pg_advisory_unlock($1)", lease_key(database, self.schema, consumer.durable))
        log.info("%s: %s handed to another replica (%d replicas up)", self.schema, consumer.durable, self.replicas)

    def _preferred(self) -> list[Consumer]:
        """The consumers in this replica's order of preference, which differs from slot to slot, so replicas
        starting together reach for different leases first."""
        return sorted(self.consumers, key=lambda c: zlib.crc32(f"{self._slot}:{c.durable}".encode()))

    def _let_go(self) -> None:
        for consumer in self.consumers:
            consumer.leased.clear()

    def _member(self, database: str, slot: int) -> int:
        return lease_key(database, self.schema, f"member:{slot}")
