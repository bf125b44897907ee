"""The command runtime for deciders: load streams, fold, decide, append at the expected versions, retry."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from events.base import Event
from shared.eventstore import (
    AppendResult,
    Connection,
    EventStorage,
    Metadata,
    RecordedEvent,
    StreamAppend,
    StreamConflict,
)
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
    pending: list[tuple[Event, Metadata | None]]
    """Decided, not yet appended: each event with the metadata it was decided with, if not the command's."""


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
    version, _ = start = folded_states(store).get(decider, stream_id) or (0, decider.initial_state)
    records = await store.read_stream(stream_id, after_version=version, connection=connection)
    return _fold_on(store, decider, stream_id, start, records, kept=connection is None)


async def fold_streams(
    store: EventStorage,
    decider: Decider[Any, S, Any],
    stream_ids: Collection[str],
    *,
    connection: Connection | None = None,
) -> dict[str, tuple[S, int]]:
    """``fold_stream`` of several streams of one decider, their events read in one statement."""
    states = folded_states(store)
    starts = {stream_id: states.get(decider, stream_id) or (0, decider.initial_state) for stream_id in stream_ids}
    records = await store.read_streams([(s, version) for s, (version, _) in starts.items()], connection=connection)
    by_stream: dict[str, list[RecordedEvent]] = {}
    for record in records:
        by_stream.setdefault(record.stream_id, []).append(record)
    return {
        stream_id: _fold_on(store, decider, stream_id, start, by_stream.get(stream_id, []), kept=connection is None)
        for stream_id, start in starts.items()
    }


def _fold_on(
    store: EventStorage,
    decider: Decider[Any, S, Any],
    stream_id: str,
    start: tuple[int, S],
    records: Sequence[RecordedEvent],
    *,
    kept: bool,
) -> tuple[S, int]:
    """The state ``records`` (the stream's events after ``start``'s version) lead to from ``start``; ``kept`` for
    the next reader when they are all committed."""
    version, state = start
    state = decider.fold((store.decode(r) for r in records), state)
    version = records[-1].stream_version if records else version
    if kept:
        folded_states(store).remember(decider, stream_id, version, state)
    return state, version


class UnitOfWork:
    """One command's view of the streams it reads and writes; committed atomically by ``run_command``."""

    def __init__(self, store: EventStorage, connection: Connection) -> None:
        self.store = store
        self.connection = connection
        self._streams: dict[str, _Loaded] = {}
        self._ahead: dict[str, _Loaded] = {}

    async def read_ahead(self, decider: Decider[Any, Any, Any], stream_ids: Collection[str]) -> None:
        """Fold streams now, in one statement, so that loading them later costs no round trip: a command reads
        what it can before it waits for a contended lock, and holds that lock for less; or reads at once the many
        streams it will decide on. A stream keeps its place among the unit's appends where it is first loaded,
        as if it had been read then."""
        unread = [s for s in dict.fromkeys(stream_ids) if s not in self._streams and s not in self._ahead]
        if unread:
            folded = await fold_streams(self.store, decider, unread, connection=self.connection)
            for stream_id, (state, version) in folded.items():
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

    async def execute(
        self, decider: Decider[C, S, E], stream_id: str, command: C, *, metadata: Metadata | None = None
    ) -> tuple[S, list[E]]:
        """Decide ``command`` on the stream's current state; the events are appended at commit, with
        ``metadata`` when given (a unit deciding on behalf of several causes), else the command's."""
        state = await self.load(decider, stream_id)
        events = list(decider.decide(command, state))
        new_state = decider.fold(events, state)
        loaded = self._streams[stream_id]
        loaded.state = new_state
        loaded.pending.extend((event, metadata) for event in events)
        return new_state, events

    def remember(self, versions: dict[str, int]) -> None:
        """Keep the states of this unit's streams, once its transaction committed at ``versions``."""
        states = folded_states(self.store)
        for stream_id, loaded in self._streams.items():
            states.remember(loaded.decider, stream_id, versions.get(stream_id, loaded.version), loaded.state)

    def forget(self) -> None:
        folded_states(self.store).forget([*self._streams, *self._ahead])

    def appends(self, metadata: Metadata) -> list[StreamAppend]:
        """Each stream's decided events, in runs that share their metadata (``metadata`` where none was given)."""
        appends: list[StreamAppend] = []
        for stream_id, loaded in self._streams.items():
            version = loaded.version
            for own, run in itertools.groupby(loaded.pending, key=lambda pending: pending[1]):
                events = [event for event, _ in run]
                appends.append(StreamAppend(stream_id, loaded.decider.stream_type, version, events, own or metadata))
                version += len(events)
        return appends


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
