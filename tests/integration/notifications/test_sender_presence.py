"""A sender that dies mid-send: the messages it had leased go to another replica at its next claim, not after the
lease; a sender that is alive keeps them (across processes and kill -9: tests/e2e/test_notification_replicas.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import UUID

import asyncpg
import pytest

from services.notifications import sender
from services.notifications.deliveries import OutboundMessage, enqueue
from shared.kernel.clock import ManualClock
from shared.kernel.ids import new_id

pytestmark = pytest.mark.integration
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Contact:
    contact_id: UUID
    msme_id: UUID
    phone: str
    channel: str = "whatsapp"
    language: str = "id"


async def queued(pool: asyncpg.Pool, count: int) -> None:
    async with pool.acquire() as connection:
        for n in range(count):
            contact = Contact(new_id(), new_id(), f"+62812000{n:05d}")
            message = OutboundMessage(text=f"message {n}")
            await enqueue(connection, trigger=f"test:{n}", contact=contact, kind="update", message=message, at=NOW)


async def present(database_url: str) -> tuple[asyncpg.Connection, sender.Presence]:
    connection = await asyncpg.connect(database_url)
    presence = sender.Presence()
    await presence.hold(connection)
    return connection, presence


async def test_a_live_senders_leases_are_kept_and_a_dead_ones_are_taken_at_once(
    database_url: str, pool: asyncpg.Pool
) -> None:
    await queued(pool, 5)
    ctx = SimpleNamespace(pool=pool, clock=ManualClock(NOW))
    alive, first = await present(database_url)
    doomed, second = await present(database_url)
    assert first.key != second.key

    taken = await sender.claim(ctx, limit=3, presence=second)  # type: ignore[arg-type]
    assert len(taken) == 3
    assert len(await sender.claim(ctx, presence=first)) == 2  # type: ignore[arg-type]
    assert await sender.claim(ctx, presence=first) == []  # type: ignore[arg-type]

    await doomed.close()  # as when its process is killed: PostgreSQL ends the session, and its lock goes
    again = await sender.claim(ctx, presence=first)  # type: ignore[arg-type]
    assert sorted(row["id"] for row in again) == sorted(row["id"] for row in taken)
    assert {row["attempts"] for row in again} == {2}
    keys = await pool.fetch("SELECT DISTINCT claimed_by FROM notifications.deliveries")
    assert [row["claimed_by"] for row in keys] == [first.key]
    await alive.close()


async def test_a_lease_without_a_presence_waits_for_the_lease_to_run_out(database_url: str, pool: asyncpg.Pool) -> None:
    await queued(pool, 2)
    clock = ManualClock(NOW)
    ctx = SimpleNamespace(pool=pool, clock=clock)
    assert len(await sender.claim(ctx)) == 2  # type: ignore[arg-type]
    alive, presence = await present(database_url)
    assert await sender.claim(ctx, presence=presence) == []  # type: ignore[arg-type]
    clock.advance(sender.LEASE + timedelta(seconds=1))
    assert len(await sender.claim(ctx, presence=presence)) == 2  # type: ignore[arg-type]
    await alive.close()
