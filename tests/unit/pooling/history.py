"""The history a decider test starts from, written as the commands that made it."""

from __future__ import annotations

from typing import Any

from shared.kernel.decider import Decider


def history(decider: Decider[Any, Any, Any], *commands: Any) -> list[Any]:
    """The events ``decider`` decides for ``commands`` in turn, from its initial state."""
    state, events = decider.initial_state, []
    for command in commands:
        decided = list(decider.decide(command, state))
        state, events = decider.fold(decided, state), [*events, *decided]
    return events
