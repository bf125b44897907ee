"""The command runtime for deciders: load streams, fold, decide, append at the expected versions, retry."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from events.base import Event
from shared.eventstore import AppendResult, Connection, EventStorage, Metadata, StreamAppend, StreamConflict
from shared.kernel.decider import Decider

C = TypeVar("C")
S = TypeVar("S")
E = TypeVar("E", bound=Event)
T = TypeVar("T")


@dataclass
class _Loaded:
    decider: Decider[Any, Any, Any]
    version: int
    state: Any
    pending: list[Event]


class FoldedStates:
    """Streams' states as their last committed version left them, so a command folds only the events since.

    Committed events never change, so a state folded up to version ``v`` stays right; a command reads the
    events after ``v``, whoever appended them. Only states folded from committed events go in: a command's once
    its transaction committed, or a read on the pool; a version conflict takes the command's streams out.
    """

    def __init__(self, size: int = 2_000) -> None:
        self.size = size
        self._states: OrderedDict[tuple[Any, str], tuple[int, Any]] = OrderedDict()

    def get(self, decider: Decider[Any, S, Any], stream_id: str) -> tuple[int, S] | None:
        key = (decider.evolve, stream_id)
        found = self._states.get(key)
        if found is not None:
            self._states.move_to_end(key)
        return found

    def remember(self, decider: Decider[Any, S, Any], stream_id: str, version: int, state: S) -> None:
        key = (decider.evolve, stream_id)
        known = self._states.get(key)
        if known is not None and known[0] > version:
            return  # a later command got here first
        self._states[key] = (version, state)
        self._states.move_to_end(key)
        while len(self._states) > self.size:
            self._states.popitem(last=False)

    def forget(self, stream_ids: Iterable[str]) -> None:
        gone = set(stream_ids)
        for key in [k for k in self._states if k[1] in gone]:
            del self._states[key]


_folded: WeakKeyDictionary[EventStorage, FoldedStates] = WeakKeyDictionary()


def folded_states(store: EventStorage) -> FoldedStates:
    """The states the commands of this process folded on ``store``'s streams."""
    states = _folded.get(store)
    if states is None:
        states = _folded[store] = FoldedStates()
    return states


async def fold_stream(
    store: EventStorage, decider: Decider[Any, S, Any], stream_id: str, *, connection: Connection | None = None
) -> tuple[S, int]:
    """A stream's state and version, folding only the events after the state this process kept for it.

    Read on ``connection``, the state may hold that transaction's own uncommitted events, so it is not kept;
    read on the pool, it is all committed, and kept for the next reader.
    """
    states = folded_states(store)
    version, state = states.get(decider, stream_id) or (0, decider.initial_state)
    records = await store.read_stream(stream_id, after_version=version, connection=connection)
    state = decider.fold((store.decode(r) for r in records), state)
    version = records[-1].stream_version if records else version
    if connection is None:
        states.remember(decider, stream_id, version, state)
    return state, version


class UnitOfWork:
    """One command's view of the streams it reads and writes; committed atomically by ``run_command``."""

    def __init__(self, store: EventStorage, connection: Connection) -> None:
        self.store = store
        self.connection = connection
        self._streams: dict[str, _Loaded] = {}
        self._ahead: dict[str, _Loaded] = {}

    async def read_ahead(self, decider: Decider[Any, Any, Any], stream_id: str) -> None:
        """Fold a stream now, so that loading it later costs no round trip: a command reads what it can before it
        waits for a contended lock, and holds that lock for less. The stream keeps its place among the unit's
        appends where it is first loaded, as if it had been read then."""
        if stream_id not in self._streams and stream_id not in self._ahead:
            state, version = await fold_stream(self.store, decider, stream_id, connection=self.connection)
            self._ahead[stream_id] = _Loaded(decider, version, state, [])

    async def load(self, decider: Decider[Any, S, Any], stream_id: str) -> S:
        loaded = self._streams.get(stream_id)
        if loaded is None:
            loaded = self._ahead.pop(stream_id, None)
            if loaded is None or loaded.decider is not decider:
                state, version = await fold_stream(self.store, decider, stream_id, connection=self.connection)
                loaded = _Loaded(decider, version, state, [])
            self._streams[stream_id] = loaded
        folded: S = loaded.state
        return folded

    async def version(self, stream_id: str) -> int:
        loaded = self._streams.get(stream_id)
        if loaded is None:
            raise KeyError(f"stream {stream_id} was not loaded")
        return loaded.version

    async def execute(self, decider: Decider[C, S, E], stream_id: str, command: C) -> tuple[S, list[E]]:
        """Decide ``command`` on the stream's current state; the events are appended at commit."""
        state = await self.load(decider, stream_id)
        events = list(decider.decide(command, state))
        new_state = decider.fold(events, state)
        loaded = self._streams[stream_id]
        loaded.state = new_state
        loaded.pending.extend(events)
        return new_state, events

    def remember(self, versions: dict[str, int]) -> None:
        """Keep the states of this unit's streams, once its transaction committed at ``versions``."""
        states = folded_states(self.store)
        for stream_id, loaded in self._streams.items():
            states.remember(loaded.decider, stream_id, versions.get(stream_id, loaded.version), loaded.state)

    def forget(self) -> None:
        folded_states(self.store).forget([*self._streams, *self._ahead])

    def appends(self, metadata: Metadata) -> list[StreamAppend]:
        return [
            StreamAppend(stream_id, s.decider.stream_type, s.version, list(s.pending), metadata)
            for stream_id, s in self._streams.items()
            if s.pending
        ]


@dataclass(frozen=True)
class CommandOutcome(Generic[T]):
    """What a command returned, with the versions and store position it reached."""

    value: T
    versions: dict[str, int]
    position: int
    events: list[Event]


class TooManyConflicts(Exception):
    """A command kept losing the race for its streams."""


async def run_command(
    store: EventStorage,
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    metadata: Metadata,
    connection: Connection | None = None,
    lock_streams: Sequence[str] = (),
    retries: int = 5,
) -> CommandOutcome[T]:
    """Run ``work`` in a transaction (a savepoint inside ``connection``'s) and append what it decided.

    A version conflict re-runs the whole work on fresh state, up to ``retries`` times. ``lock_streams``
    are locked in sorted order first, so contended commands queue instead of failing.
    """
    for _attempt in range(retries + 1):
        try:
            outcome = await _attempt_once(store, work, metadata, connection, lock_streams)
        except StreamConflict:
            continue
        if connection is None and outcome.events:
            store.committed()
        return outcome
    raise TooManyConflicts(f"gave up after {retries + 1} conflicting attempts")


async def _attempt_once(
    store: EventStorage,
    work: Callable[[UnitOfWork], Awaitable[T]],
    metadata: Metadata,
    outer: Connection | None,
    lock_streams: Sequence[str],
) -> CommandOutcome[T]:
    """One try in its own transaction, or a savepoint inside ``outer``'s; only the states of a transaction
    that committed (no ``outer``) are kept."""
    unit: UnitOfWork | None = None
    try:
        async with store.transaction(outer) as connection:
            unit = UnitOfWork(store, connection)
            if lock_streams:
                await store.lock_streams(lock_streams, connection=connection)
            value = await work(unit)
            appends = unit.appends(metadata)
            result: AppendResult | None = None
            if appends:
                result = await store.append_many(appends, connection=connection)
    except StreamConflict:
        if unit is not None:
            unit.forget()
        raise
    versions = result.versions if result else {}
    if outer is None:
        unit.remember(versions)
    return CommandOutcome(
        value=value,
        versions=versions,
        position=result.position.position if result else 0,
        events=[e for a in appends for e in a.events],
    )
