"""A decider: a pure aggregate, ``decide(command, state) -> events`` and ``evolve(state, event) -> state``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from events.base import Event

C = TypeVar("C")
S = TypeVar("S")
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Decider(Generic[C, S, E]):
    """A pure aggregate: ``decide(command, state) -> events`` and ``evolve(state, event) -> state``."""

    stream_type: str
    initial_state: S
    decide: Callable[[C, S], Sequence[E]]
    evolve: Callable[[S, E], S]

    def fold(self, events: Iterable[E], state: S | None = None) -> S:
        current = self.initial_state if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current
