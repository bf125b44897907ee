"""A tiny event-sourced ledger used to test the platform without any service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
import pytest

from events.base import Event, EventCodec
from shared.decider import Decider, run_command
from shared.eventstore import EventStorage, EventStore, Metadata
from shared.kernel.errors import Conflict
from shared.migrations import migrate


class Opened(Event, frozen=True, kw_only=True, tag="ledger.Opened.v1"):
    owner: str


class Deposited(Event, frozen=True, kw_only=True, tag="ledger.Deposited.v2"):
    amount: int
    note: str = ""


LedgerEvent = Opened | Deposited


def _deposited_v1_to_v2(raw: dict[str, object]) -> dict[str, object]:
    # v1 stored the amount as "cents"; v2 calls it "amount" and adds a note.
    raw["amount"] = raw.pop("cents")
    raw["note"] = "upcast from v1"
    return raw


CODEC = EventCodec("ledger", LedgerEvent, upcasters={("Deposited", 1): _deposited_v1_to_v2})


class Open(msgspec.Struct, frozen=True):
    owner: str


class Deposit(msgspec.Struct, frozen=True):
    amount: int


@dataclass(frozen=True)
class Account:
    owner: str | None = None
    balance: int = 0


def decide(command: Open | Deposit, state: Account) -> Sequence[LedgerEvent]:
    match command:
        case Open(owner=owner):
            if state.owner is not None:
                raise Conflict("the account is already open")
            return [Opened(owner=owner)]
        case Deposit(amount=amount):
            if state.owner is None:
                raise Conflict("the account is not open")
            return [Deposited(amount=amount)]


def evolve(state: Account, event: LedgerEvent) -> Account:
    match event:
        case Opened(owner=owner):
            return Account(owner=owner)
        case Deposited(amount=amount):
            return Account(owner=state.owner, balance=state.balance + amount)


ACCOUNT = Decider[Open | Deposit, Account, LedgerEvent]("account", Account(), decide, evolve)


async def ledger_store(pool: asyncpg.Pool) -> EventStore:
    async with pool.acquire() as connection:
        await migrate(connection, "ledger", [])
    return EventStore(pool, "ledger", CODEC)


async def deposit(store: EventStorage, stream: str, amount: int) -> Account:
    """Deposit through a command, as a service would; the account's state after it."""
    outcome = await run_command(
        store, lambda unit: unit.execute(ACCOUNT, stream, Deposit(amount=amount)), metadata=Metadata()
    )
    state: Account = outcome.value[0]
    return state


def reads_after(store: EventStorage, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ``after_version`` of every stream read on ``store`` from now on."""
    seen: list[int] = []
    read = store.read_stream

    async def spying(stream_id: str, *, after_version: int = 0, connection: Any = None) -> Any:
        seen.append(after_version)
        return await read(stream_id, after_version=after_version, connection=connection)

    async def spying_many(probes: Sequence[tuple[str, int]], *, connection: Any = None) -> Any:
        seen.extend(after for _, after in probes)
        return [
            r
            for stream_id, after in sorted(probes)
            for r in await read(stream_id, after_version=after, connection=connection)
        ]

    monkeypatch.setattr(store, "read_stream", spying)
    monkeypatch.setattr(store, "read_streams", spying_many)
    return seen
