"""ISO 2859-1:1999 switching rules between normal, tightened and reduced inspection.

One state per (MSME, standard). Pure and deterministic: the state after a lot depends only on
the state before it, the lot's outcome and the two flags the caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from services.quality.domain.sampling import SamplingPlan, Severity, passes_one_step_tighter
from shared.kernel.errors import Conflict

WINDOW: Final = 5
"""Normal → tightened looks at this many consecutive original lots."""
REJECTIONS_TO_TIGHTEN: Final = 2
ACCEPTANCES_TO_RELAX: Final = 5
"""Consecutive original lots accepted on tightened inspection before returning to normal."""
REJECTIONS_TO_DISCONTINUE: Final = 5
"""Cumulative non-accepted lots on tightened inspection that discontinue inspection."""
SCORE_FOR_REDUCED: Final = 30


class InspectionDiscontinued(Conflict):
    """Lots are not inspected under the scheme until an inspector resumes it after corrective action."""

    def __init__(self) -> None:
        super().__init__(
            "inspection is discontinued until an inspector records corrective action and resumes it",
            problem="inspection-discontinued",
        )


class NotDiscontinued(Conflict):
    def __init__(self, severity: Severity) -> None:
        super().__init__(
            f"inspection is running ({severity.value}); only discontinued inspection can be resumed",
            problem="inspection-not-discontinued",
        )


@dataclass(frozen=True, kw_only=True)
class LotOutcome:
    """The verdict on one lot, as the switching rules need it."""

    accepted: bool
    original: bool
    """False for a resubmitted lot, which no switching rule counts."""
    accept_number: int
    """Ac of the plan the lot was inspected under."""
    accepted_one_step_tighter: bool
    """Whether the lot would also have passed had the AQL been one step tighter."""


@dataclass(frozen=True, kw_only=True)
class SwitchingState:
    severity: Severity
    recent: tuple[bool, ...]
    """Acceptance of the last (at most 5) original lots on the current severity, oldest first."""
    switching_score: int
    consecutive_accepted: int
    rejected_on_tightened: int
    discontinued: bool


INITIAL: Final = SwitchingState(
    severity=Severity.NORMAL,
    recent=(),
    switching_score=0,
    consecutive_accepted=0,
    rejected_on_tightened=0,
    discontinued=False,
)

_TIGHTENED: Final = replace(INITIAL, severity=Severity.TIGHTENED)
_REDUCED: Final = replace(INITIAL, severity=Severity.REDUCED)


def lot_outcome(plan: SamplingPlan, defects: int, *, original: bool = True) -> LotOutcome:
    """The outcome of inspecting a lot under ``plan`` and finding ``defects`` in the sample."""
    return LotOutcome(
        accepted=plan.accepts(defects),
        original=original,
        accept_number=plan.accept,
        accepted_one_step_tighter=passes_one_step_tighter(plan, defects),
    )


def after_lot(
    state: SwitchingState,
    outcome: LotOutcome,
    *,
    reduced_allowed: bool,
    production_irregular: bool = False,
) -> SwitchingState:
    """The switching state once ``outcome`` is known.

    ``reduced_allowed`` says the responsible authority approves reduced inspection for the standard;
    ``production_irregular`` says production is not steady, which forbids reduced inspection.
    """
    if state.discontinued:
        raise InspectionDiscontinued()
    if state.severity is Severity.REDUCED and production_irregular:
        return INITIAL
    if not outcome.original:
        return state
    recent = (*state.recent, outcome.accepted)[-WINDOW:]
    consecutive = state.consecutive_accepted + 1 if outcome.accepted else 0
    match state.severity:
        case Severity.NORMAL:
            if recent.count(False) >= REJECTIONS_TO_TIGHTEN:
                return _TIGHTENED
            score = _switching_score(state.switching_score, outcome)
            if score >= SCORE_FOR_REDUCED and reduced_allowed and not production_irregular:
                return _REDUCED
            return replace(state, recent=recent, consecutive_accepted=consecutive, switching_score=score)
        case Severity.TIGHTENED:
            if consecutive >= ACCEPTANCES_TO_RELAX:
                return INITIAL
            rejected = state.rejected_on_tightened + (0 if outcome.accepted else 1)
            return replace(
                state,
                recent=recent,
                consecutive_accepted=consecutive,
                rejected_on_tightened=rejected,
                discontinued=rejected >= REJECTIONS_TO_DISCONTINUE,
            )
        case Severity.REDUCED:
            if not outcome.accepted:
                return INITIAL
            return replace(state, recent=recent, consecutive_accepted=consecutive)


def resume(state: SwitchingState) -> SwitchingState:
    """An inspector's corrective action: discontinued inspection restarts at tightened, counters reset."""
    if not state.discontinued:
        raise NotDiscontinued(state.severity)
    return _TIGHTENED


def _switching_score(score: int, outcome: LotOutcome) -> int:
    """ISO 2859-1:1999 9.3.3: +2 or +3 for a lot that earns it, otherwise back to 0."""
    if not outcome.accepted:
        return 0
    if outcome.accept_number <= 1:
        return score + 2
    return score + 3 if outcome.accepted_one_step_tighter else 0
