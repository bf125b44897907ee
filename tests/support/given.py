"""Given/when/then for every decider: the events a decider decides for a command after some history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import pytest

from shared.kernel.decider import Decider
from shared.kernel.errors import GotongError, InvalidInput

C = TypeVar("C")
S = TypeVar("S")


def then(decider: Decider[C, S, Any], given: Sequence[Any], when: C) -> list[Any]:
    """The events ``decider`` decides for ``when`` after ``given``."""
    return list(decider.decide(when, decider.fold(given)))


def then_raises(decider: Decider[C, S, Any], given: Sequence[Any], when: C, error: type[GotongError]) -> GotongError:
    """The error of type ``error`` that ``decider`` raises for ``when`` after ``given``."""
    with pytest.raises(error) as raised:
        then(decider, given, when)
    return raised.value


def invalid_fields(decider: Decider[C, S, Any], given: Sequence[Any], when: C) -> set[str]:
    """The fields an ``InvalidInput`` names for ``when``."""
    error = then_raises(decider, given, when, InvalidInput)
    assert isinstance(error, InvalidInput)
    return {e.field for e in error.errors}


def history(decider: Decider[Any, Any, Any], *commands: Any) -> list[Any]:
    """The given events written as the commands that made them: what ``decider`` decides for ``commands`` in turn,
    from its initial state."""
    state, events = decider.initial_state, []
    for command in commands:
        decided = list(decider.decide(command, state))
        state, events = decider.fold(decided, state), [*events, *decided]
    return events
