"""Catalog use cases run by the command runtime on the in-memory event store: no database, milliseconds."""

from __future__ import annotations

import time

import pytest

from events.catalog import CODEC, MsmeRegistered, MsmeUpdated, NibClaimed
from services.catalog import commands
from services.catalog.domain.msme import MsmeChanges, UpdateMsme, msme_stream
from services.catalog.domain.nib import nib_stream
from shared.auth import Principal, Role
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Metadata
from shared.kernel.errors import Conflict, Forbidden, PreconditionFailed
from shared.kernel.ids import new_id
from shared.memory_store import MemoryEventStore
from tests.unit.catalog.given import NOW, register

pytestmark = pytest.mark.unit

OWNER = Principal(sub="siti", role=Role.MSME, org="cirebon-weavers")
STRANGER = Principal(sub="budi", role=Role.MSME, org="jepara-carvers")


async def test_registering_an_msme_claims_its_nib_in_the_same_transaction() -> None:
    store = MemoryEventStore("catalog", CODEC)
    woken: list[str] = []
    store.on_commit.append(lambda: woken.append("catalog"))
    first = register(msme_id=new_id())
    outcome = await run_command(
        store, lambda unit: commands.register_msme(unit, first), metadata=Metadata(actor="msme:siti")
    )
    assert outcome.versions == {msme_stream(first.msme_id): 1, nib_stream(first.nib): 1}
    assert [type(e) for e in outcome.events] == [MsmeRegistered, NibClaimed]
    assert (await store.read_stream(msme_stream(first.msme_id)))[0].metadata == Metadata(actor="msme:siti")
    assert woken == ["catalog"], "readers are woken once the command committed"

    second = register(msme_id=new_id())  # the same NIB
    with pytest.raises(Conflict) as refused:
        await run_command(store, lambda unit: commands.register_msme(unit, second), metadata=Metadata())
    assert refused.value.problem == "duplicate-nib"
    assert await store.read_stream(msme_stream(second.msme_id)) == [], "nothing of the refused MSME is stored"
    assert len(await store.read_all()) == 2


async def test_an_update_needs_the_owner_and_the_version_the_caller_saw() -> None:
    store = MemoryEventStore("catalog", CODEC)
    msme = register(msme_id=new_id())
    await run_command(store, lambda unit: commands.register_msme(unit, msme), metadata=Metadata())
    rename = UpdateMsme(changes=MsmeChanges(name="Rotan Cirebon Makmur"), at=NOW)

    async def update(unit: UnitOfWork, who: Principal, expected: int) -> commands.MsmeOutcome:
        return await commands.update_msme(unit, who, msme.msme_id, rename, expected)

    with pytest.raises(Forbidden):
        await run_command(store, lambda unit: update(unit, STRANGER, 1), metadata=Metadata())
    with pytest.raises(PreconditionFailed):
        await run_command(store, lambda unit: update(unit, OWNER, 0), metadata=Metadata())
    outcome = await run_command(store, lambda unit: update(unit, OWNER, 1), metadata=Metadata())
    assert outcome.value.msme.name == "Rotan Cirebon Makmur" and outcome.value.version == 2
    events, version = await store.load(msme_stream(msme.msme_id))
    assert version == 2 and isinstance(events[-1], MsmeUpdated)


async def test_a_registration_takes_well_under_a_millisecond_in_memory() -> None:
    store = MemoryEventStore("catalog", CODEC)
    registrations = [register(msme_id=new_id(), nib=f"91200{n:08d}") for n in range(500)]
    started = time.perf_counter()
    for command in registrations:
        await run_command(store, lambda unit, c=command: commands.register_msme(unit, c), metadata=Metadata())
    elapsed = time.perf_counter() - started
    assert len(await store.read_all(limit=10_000)) == 1_000
    assert elapsed < 5.0, f"500 registrations took {elapsed:.2f} s"  # ~0.03 s on a quiet machine; bound for CI
