"""A tiny event-sourced ledger used to test the platform without any service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from events.base import Event, EventCodec
from shared.decider import Decider
from shared.errors import Conflict
from shared.eventstore import EventStore
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
