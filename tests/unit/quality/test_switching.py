"""Switching between normal, tightened and reduced inspection (ISO 2859-1:1999, clause 9), given/when/then.

Verdicts are written A (accepted) and R (not accepted) on original lots; ``r`` is a resubmitted lot.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from services.quality.domain.sampling import InspectionLevel, Severity, sampling_plan
from services.quality.domain.switching import (
    INITIAL,
    InspectionDiscontinued,
    LotOutcome,
    NotDiscontinued,
    SwitchingState,
    after_lot,
    lot_outcome,
    resume,
)
from shared.kernel.errors import Conflict

pytestmark = pytest.mark.unit

ACCEPTED = LotOutcome(accepted=True, original=True, accept_number=0, accepted_one_step_tighter=False)
REJECTED = replace(ACCEPTED, accepted=False)
RESUBMITTED = replace(ACCEPTED, original=False)
VERDICTS = {"A": ACCEPTED, "R": REJECTED, "r": RESUBMITTED}


def given(severity: Severity = Severity.NORMAL, **fields: object) -> SwitchingState:
    """A state reached the way the rules reach it: fresh on entering ``severity``."""
    return replace(INITIAL, severity=severity, **fields)  # type: ignore[arg-type]


def when(state: SwitchingState, lots: str | list[LotOutcome], *, reduced_allowed: bool = False) -> SwitchingState:
    outcomes = [VERDICTS[verdict] for verdict in lots.split()] if isinstance(lots, str) else lots
    for outcome in outcomes:
        state = after_lot(state, outcome, reduced_allowed=reduced_allowed)
    return state


def scored(accept_number: int, *, tighter: bool = False, accepted: bool = True) -> LotOutcome:
    return LotOutcome(accepted=accepted, original=True, accept_number=accept_number, accepted_one_step_tighter=tighter)


# --- normal <-> tightened -------------------------------------------------------------------------


def test_inspection_starts_normal_with_nothing_counted() -> None:
    assert (
        SwitchingState(
            severity=Severity.NORMAL,
            recent=(),
            switching_score=0,
            consecutive_accepted=0,
            rejected_on_tightened=0,
            discontinued=False,
        )
        == INITIAL
    )


@pytest.mark.parametrize("lots", ["A R A R", "R R", "R A A A R", "A A A A A R A R", "R A R"])
def test_two_rejections_within_five_consecutive_lots_tighten_inspection(lots: str) -> None:
    then = when(given(), lots)
    assert then.severity is Severity.TIGHTENED
    assert (then.recent, then.consecutive_accepted, then.rejected_on_tightened) == ((), 0, 0)


@pytest.mark.parametrize("lots", ["R A A A A A R", "R A A A A R", "A R A A A A A R A", "R", "A A A A"])
def test_rejections_further_apart_than_five_lots_keep_inspection_normal(lots: str) -> None:
    assert when(given(), lots).severity is Severity.NORMAL


def test_normal_remembers_the_last_five_original_lots() -> None:
    then = when(given(), "R A A A A A r A")
    assert then.recent == (True, True, True, True, True)
    assert then.consecutive_accepted == 6


def test_five_consecutive_acceptances_on_tightened_return_to_normal() -> None:
    then = when(given(Severity.TIGHTENED), "A A A A A")
    assert then == INITIAL


def test_a_rejection_on_tightened_restarts_the_count_of_acceptances() -> None:
    then = when(given(Severity.TIGHTENED), "A A A A R A A A A")
    assert then.severity is Severity.TIGHTENED
    assert then.consecutive_accepted == 4
    assert then.rejected_on_tightened == 1
    assert when(then, "A").severity is Severity.NORMAL


def test_on_returning_to_normal_the_switching_score_starts_at_zero() -> None:
    then = when(given(Severity.TIGHTENED, rejected_on_tightened=2), "A A A A A")
    assert (then.severity, then.switching_score, then.rejected_on_tightened) == (Severity.NORMAL, 0, 0)


# --- discontinuation --------------------------------------------------------------------------------


def test_five_cumulative_rejections_on_tightened_discontinue_inspection() -> None:
    then = when(given(Severity.TIGHTENED), "R A R A A R A A A R A R")
    assert then.discontinued
    assert then.severity is Severity.TIGHTENED
    assert then.rejected_on_tightened == 5


def test_four_rejections_on_tightened_do_not_discontinue() -> None:
    then = when(given(Severity.TIGHTENED), "R R R R")
    assert not then.discontinued


def test_a_discontinued_scheme_takes_no_lot_outcome() -> None:
    discontinued = when(given(Severity.TIGHTENED), "R R R R R")
    for outcome in (ACCEPTED, REJECTED, RESUBMITTED):
        with pytest.raises(InspectionDiscontinued) as raised:
            after_lot(discontinued, outcome, reduced_allowed=True)
        assert isinstance(raised.value, Conflict)


def test_resuming_after_corrective_action_restarts_at_tightened_with_counters_reset() -> None:
    discontinued = when(given(Severity.TIGHTENED), "R R R R R")
    then = resume(discontinued)
    assert then == given(Severity.TIGHTENED)
    assert when(then, "A A A A A") == INITIAL


@pytest.mark.parametrize("severity", list(Severity))
def test_only_discontinued_inspection_can_be_resumed(severity: Severity) -> None:
    with pytest.raises(NotDiscontinued):
        resume(given(severity))


# --- resubmitted lots -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        given(),
        given(Severity.TIGHTENED, rejected_on_tightened=4),
        given(Severity.REDUCED),
        given(switching_score=28),
    ],
)
def test_resubmitted_lots_count_toward_no_rule(state: SwitchingState) -> None:
    rejected_again = replace(RESUBMITTED, accepted=False)
    assert when(state, [rejected_again, rejected_again, RESUBMITTED], reduced_allowed=True) == state


def test_a_rejected_resubmission_between_two_original_rejections_still_tightens() -> None:
    assert when(given(), "R r r r r r A A R").severity is Severity.TIGHTENED


# --- switching score and normal -> reduced ----------------------------------------------------------


def test_an_accepted_lot_with_acceptance_number_0_or_1_adds_two() -> None:
    then = when(given(), [scored(0), scored(1), scored(1)])
    assert then.switching_score == 6


def test_with_acceptance_number_2_or_more_a_lot_adds_three_only_if_it_passes_one_step_tighter() -> None:
    assert when(given(), [scored(2, tighter=True), scored(5, tighter=True)]).switching_score == 6
    assert when(given(switching_score=12), [scored(3, tighter=False)]).switching_score == 0


def test_a_rejected_lot_resets_the_switching_score() -> None:
    then = when(given(switching_score=26), [scored(1, accepted=False)])
    assert then.switching_score == 0
    assert then.severity is Severity.NORMAL


def test_fifteen_accepted_lots_with_acceptance_number_zero_reach_reduced_when_allowed() -> None:
    lots = [scored(0)] * 15
    then = when(given(), lots, reduced_allowed=True)
    assert then.severity is Severity.REDUCED
    assert when(given(), lots[:14], reduced_allowed=True).severity is Severity.NORMAL


def test_ten_lots_passing_one_step_tighter_reach_reduced_when_allowed() -> None:
    then = when(given(), [scored(3, tighter=True)] * 10, reduced_allowed=True)
    assert then.severity is Severity.REDUCED


def test_a_score_of_thirty_stays_normal_without_the_authoritys_approval() -> None:
    then = when(given(), [scored(0)] * 20, reduced_allowed=False)
    assert (then.severity, then.switching_score) == (Severity.NORMAL, 40)
    assert when(then, [scored(0)], reduced_allowed=True).severity is Severity.REDUCED


def test_irregular_production_keeps_inspection_from_going_reduced() -> None:
    state = given(switching_score=28)
    then = after_lot(state, scored(0), reduced_allowed=True, production_irregular=True)
    assert (then.severity, then.switching_score) == (Severity.NORMAL, 30)


# --- reduced -> normal ------------------------------------------------------------------------------


def test_reduced_stays_reduced_while_lots_are_accepted() -> None:
    then = when(given(Severity.REDUCED), "A A A A A A A", reduced_allowed=True)
    assert then.severity is Severity.REDUCED


def test_a_rejected_lot_on_reduced_returns_to_normal_with_a_fresh_score() -> None:
    then = when(given(Severity.REDUCED), "A A R", reduced_allowed=True)
    assert then == INITIAL


def test_irregular_production_returns_reduced_to_normal() -> None:
    then = after_lot(given(Severity.REDUCED), ACCEPTED, reduced_allowed=True, production_irregular=True)
    assert then == INITIAL


# --- outcomes from a sampling plan -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aql", "defects", "expected"),
    [
        # lot 1000, level II, normal -> J (80): AQL 2.5 has Ac 5, one step tighter (1.5) Ac 3
        ("2.5", 3, (True, 5, True)),
        ("2.5", 5, (True, 5, False)),
        ("2.5", 6, (False, 5, False)),
        # AQL 0.65 has Ac 1
        ("0.65", 1, (True, 1, False)),
        ("0.65", 2, (False, 1, False)),
    ],
)
def test_a_lot_outcome_is_read_from_the_plan_and_the_defects_found(
    aql: str, defects: int, expected: tuple[bool, int, bool]
) -> None:
    plan = sampling_plan(1000, Decimal(aql), InspectionLevel.II, Severity.NORMAL)
    outcome = lot_outcome(plan, defects)
    assert (outcome.accepted, outcome.accept_number, outcome.accepted_one_step_tighter) == expected
    assert outcome.original
    assert not lot_outcome(plan, defects, original=False).original


def test_switching_from_inspection_results_end_to_end() -> None:
    plan = sampling_plan(1000, Decimal("2.5"), InspectionLevel.II, Severity.NORMAL)
    clean_lots = [lot_outcome(plan, 1)] * 10
    assert when(given(), clean_lots, reduced_allowed=True).severity is Severity.REDUCED
    borderline = [lot_outcome(plan, 4)] * 10  # accepted, but not one step tighter: score stays 0
    then = when(given(), borderline, reduced_allowed=True)
    assert (then.severity, then.switching_score) == (Severity.NORMAL, 0)
