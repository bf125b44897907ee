"""ISO 2859-1:1999 Tables 1, 2-A, 2-B and 2-C checked cell by cell against the published values.

Expected values are written out here from the standard, not produced by the code. In the master
tables every cell is given as it resolves: the code letter of the row whose plan is used after
following the arrow, and that plan's acceptance number (Re is always Ac + 1 in single sampling).
Letters are listed A to R, in the order of Table 1.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.quality.domain.sampling import (
    PREFERRED_AQLS,
    InspectionLevel,
    InvalidAql,
    InvalidLevel,
    InvalidLotSize,
    InvalidSamplingParameter,
    InvalidSeverity,
    MasterPlan,
    Severity,
    code_letter,
    master_plan,
    parse_aql,
    sample_size,
    sampling_plan,
)

pytestmark = pytest.mark.unit

LETTERS = "ABCDEFGHJKLMNPQR"
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

# Table 1: lot size range -> code letters for S-1, S-2, S-3, S-4, I, II, III
TABLE_1 = [
    (2, 8, "A A A A A A B"),
    (9, 15, "A A A A A B C"),
    (16, 25, "A A B B B C D"),
    (26, 50, "A B B C C D E"),
    (51, 90, "B B C C C E F"),
    (91, 150, "B B C D D F G"),
    (151, 280, "B C D E E G H"),
    (281, 500, "B C D E F H J"),
    (501, 1200, "C C E F G J K"),
    (1201, 3200, "C D E G H K L"),
    (3201, 10_000, "C D F G J L M"),
    (10_001, 35_000, "C D F H K M N"),
    (35_001, 150_000, "D E G J L N P"),
    (150_001, 500_000, "D E G J M P Q"),
    (500_001, 10_000_000, "D E H K N Q R"),
]

SAMPLE_SIZES = {
    Severity.NORMAL: dict(
        zip(LETTERS, (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000), strict=True)
    ),
    Severity.TIGHTENED: dict(
        zip(LETTERS + "S", (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000, 3150), strict=True)
    ),
    Severity.REDUCED: dict(zip(LETTERS, (2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800), strict=True)),
}

# Table 2-A, normal inspection: AQL -> resolved plan for letters A..R
NORMAL = {
    "0.010": "Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0",
    "0.015": "P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0",
    "0.025": "N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 R1 R1",
    "0.040": "M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 Q1 Q1 R2",
    "0.065": "L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 P1 P1 Q2 R3",
    "0.10": "K0 K0 K0 K0 K0 K0 K0 K0 K0 K0 K0 N1 N1 P2 Q3 R5",
    "0.15": "J0 J0 J0 J0 J0 J0 J0 J0 J0 J0 M1 M1 N2 P3 Q5 R7",
    "0.25": "H0 H0 H0 H0 H0 H0 H0 H0 H0 L1 L1 M2 N3 P5 Q7 R10",
    "0.40": "G0 G0 G0 G0 G0 G0 G0 G0 K1 K1 L2 M3 N5 P7 Q10 R14",
    "0.65": "F0 F0 F0 F0 F0 F0 F0 J1 J1 K2 L3 M5 N7 P10 Q14 R21",
    "1.0": "E0 E0 E0 E0 E0 E0 H1 H1 J2 K3 L5 M7 N10 P14 Q21 Q21",
    "1.5": "D0 D0 D0 D0 D0 G1 G1 H2 J3 K5 L7 M10 N14 P21 P21 P21",
    "2.5": "C0 C0 C0 C0 F1 F1 G2 H3 J5 K7 L10 M14 N21 N21 N21 N21",
    "4.0": "B0 B0 B0 E1 E1 F2 G3 H5 J7 K10 L14 M21 M21 M21 M21 M21",
    "6.5": "A0 A0 D1 D1 E2 F3 G5 H7 J10 K14 L21 L21 L21 L21 L21 L21",
    "10": "C1 C1 C1 D2 E3 F5 G7 H10 J14 K21 K21 K21 K21 K21 K21 K21",
    "15": "B1 B1 C2 D3 E5 F7 G10 H14 J21 J21 J21 J21 J21 J21 J21 J21",
    "25": "A1 B2 C3 D5 E7 F10 G14 H21 H21 H21 H21 H21 H21 H21 H21 H21",
    "40": "A2 B3 C5 D7 E10 F14 G21 G21 G21 G21 G21 G21 G21 G21 G21 G21",
    "65": "A3 B5 C7 D10 E14 F21 F21 F21 F21 F21 F21 F21 F21 F21 F21 F21",
    "100": "A5 B7 C10 D14 E21 E21 E21 E21 E21 E21 E21 E21 E21 E21 E21 E21",
    "150": "A7 B10 C14 D21 E30 E30 E30 E30 E30 E30 E30 E30 E30 E30 E30 E30",
    "250": "A10 B14 C21 D30 E44 E44 E44 E44 E44 E44 E44 E44 E44 E44 E44 E44",
    "400": "A14 B21 C30 D44 D44 D44 D44 D44 D44 D44 D44 D44 D44 D44 D44 D44",
    "650": "A21 B30 C44 C44 C44 C44 C44 C44 C44 C44 C44 C44 C44 C44 C44 C44",
    "1000": "A30 B44 B44 B44 B44 B44 B44 B44 B44 B44 B44 B44 B44 B44 B44 B44",
}
# Table 2-B, tightened inspection (row S, sample 3150, is reached only through arrows)
TIGHTENED = {
    "0.010": "R0 R0 R0 R0 R0 R0 R0 R0 R0 R0 R0 R0 R0 R0 R0 R0",
    "0.015": "Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0",
    "0.025": "P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 S1 S1",
    "0.040": "N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 R1 R1 R1",
    "0.065": "M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 Q1 Q1 Q1 R2",
    "0.10": "L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 P1 P1 P1 Q2 R3",
    "0.15": "K0 K0 K0 K0 K0 K0 K0 K0 K0 K0 N1 N1 N1 P2 Q3 R5",
    "0.25": "J0 J0 J0 J0 J0 J0 J0 J0 J0 M1 M1 M1 N2 P3 Q5 R8",
    "0.40": "H0 H0 H0 H0 H0 H0 H0 H0 L1 L1 L1 M2 N3 P5 Q8 R12",
    "0.65": "G0 G0 G0 G0 G0 G0 G0 K1 K1 K1 L2 M3 N5 P8 Q12 R18",
    "1.0": "F0 F0 F0 F0 F0 F0 J1 J1 J1 K2 L3 M5 N8 P12 Q18 Q18",
    "1.5": "E0 E0 E0 E0 E0 H1 H1 H1 J2 K3 L5 M8 N12 P18 P18 P18",
    "2.5": "D0 D0 D0 D0 G1 G1 G1 H2 J3 K5 L8 M12 N18 N18 N18 N18",
    "4.0": "C0 C0 C0 F1 F1 F1 G2 H3 J5 K8 L12 M18 M18 M18 M18 M18",
    "6.5": "B0 B0 E1 E1 E1 F2 G3 H5 J8 K12 L18 L18 L18 L18 L18 L18",
    "10": "D1 D1 D1 D1 E2 F3 G5 H8 J12 K18 K18 K18 K18 K18 K18 K18",
    "15": "C1 C1 C1 D2 E3 F5 G8 H12 J18 J18 J18 J18 J18 J18 J18 J18",
    "25": "B1 B1 C2 D3 E5 F8 G12 H18 H18 H18 H18 H18 H18 H18 H18 H18",
    "40": "A1 B2 C3 D5 E8 F12 G18 G18 G18 G18 G18 G18 G18 G18 G18 G18",
    "65": "A2 B3 C5 D8 E12 F18 F18 F18 F18 F18 F18 F18 F18 F18 F18 F18",
    "100": "A3 B5 C8 D12 E18 E18 E18 E18 E18 E18 E18 E18 E18 E18 E18 E18",
    "150": "A5 B8 C12 D18 E27 E27 E27 E27 E27 E27 E27 E27 E27 E27 E27 E27",
    "250": "A8 B12 C18 D27 E41 E41 E41 E41 E41 E41 E41 E41 E41 E41 E41 E41",
    "400": "A12 B18 C27 D41 D41 D41 D41 D41 D41 D41 D41 D41 D41 D41 D41 D41",
    "650": "A18 B27 C41 C41 C41 C41 C41 C41 C41 C41 C41 C41 C41 C41 C41 C41",
    "1000": "A27 B41 B41 B41 B41 B41 B41 B41 B41 B41 B41 B41 B41 B41 B41 B41",
}
# Table 2-C, reduced inspection, 1999 edition (no gap between Ac and Re), as GB/T 2828.1-2012 (an identical
# adoption of ISO 2859-1:1999) prints it. Under AQL 0.025 one long up arrow covers rows P, Q and R.
REDUCED = {
    "0.010": "Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0 Q0",
    "0.015": "P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0 P0",
    "0.025": "N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0 N0",
    "0.040": "M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 M0 R1 R1 R1",
    "0.065": "L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 L0 Q1 Q1 Q1 R2",
    "0.10": "K0 K0 K0 K0 K0 K0 K0 K0 K0 K0 K0 P1 P1 P1 Q2 R3",
    "0.15": "J0 J0 J0 J0 J0 J0 J0 J0 J0 J0 N1 N1 N1 P2 Q3 R5",
    "0.25": "H0 H0 H0 H0 H0 H0 H0 H0 H0 M1 M1 M1 N2 P3 Q5 R6",
    "0.40": "G0 G0 G0 G0 G0 G0 G0 G0 L1 L1 L1 M2 N3 P5 Q6 R8",
    "0.65": "F0 F0 F0 F0 F0 F0 F0 K1 K1 K1 L2 M3 N5 P6 Q8 R10",
    "1.0": "E0 E0 E0 E0 E0 E0 J1 J1 J1 K2 L3 M5 N6 P8 Q10 Q10",
    "1.5": "D0 D0 D0 D0 D0 H1 H1 H1 J2 K3 L5 M6 N8 P10 P10 P10",
    "2.5": "C0 C0 C0 C0 G1 G1 G1 H2 J3 K5 L6 M8 N10 N10 N10 N10",
    "4.0": "B0 B0 B0 F1 F1 F1 G2 H3 J5 K6 L8 M10 M10 M10 M10 M10",
    "6.5": "A0 A0 E1 E1 E1 F2 G3 H5 J6 K8 L10 L10 L10 L10 L10 L10",
    "10": "D1 D1 D1 D1 E2 F3 G5 H6 J8 K10 K10 K10 K10 K10 K10 K10",
    "15": "C1 C1 C1 D2 E3 F5 G6 H8 J10 J10 J10 J10 J10 J10 J10 J10",
    "25": "A1 B1 C2 D3 E5 F6 G8 H10 H10 H10 H10 H10 H10 H10 H10 H10",
    "40": "A2 B2 C3 D5 E6 F8 G10 G10 G10 G10 G10 G10 G10 G10 G10 G10",
    "65": "A3 B3 C5 D6 E8 F10 F10 F10 F10 F10 F10 F10 F10 F10 F10 F10",
    "100": "A5 B5 C6 D8 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10",
    "150": "A7 B7 C8 D10 E14 E14 E14 E14 E14 E14 E14 E14 E14 E14 E14 E14",
    "250": "A10 B10 C10 D14 E21 E21 E21 E21 E21 E21 E21 E21 E21 E21 E21 E21",
    "400": "A14 B14 C14 D21 D21 D21 D21 D21 D21 D21 D21 D21 D21 D21 D21 D21",
    "650": "A21 B21 C21 C21 C21 C21 C21 C21 C21 C21 C21 C21 C21 C21 C21 C21",
    "1000": "A30 B30 B30 B30 B30 B30 B30 B30 B30 B30 B30 B30 B30 B30 B30 B30",
}

MASTER_TABLES = {Severity.NORMAL: NORMAL, Severity.TIGHTENED: TIGHTENED, Severity.REDUCED: REDUCED}


def _table_1_cases() -> list[tuple[int, str, str]]:
    cases = []
    for low, high, letters in TABLE_1:
        for level, letter in zip(LEVELS, letters.split(), strict=True):
            cases += [(low, level, letter), (high, level, letter)]
    return cases


def _master_cases() -> list[tuple[Severity, str, str, str, int]]:
    cases = []
    for severity, table in MASTER_TABLES.items():
        assert list(table) == [str(aql) for aql in PREFERRED_AQLS]
        for aql, row in table.items():
            for letter, cell in zip(LETTERS, row.split(), strict=True):
                cases.append((severity, letter, aql, cell[0], int(cell[1:])))
    return cases


@pytest.mark.parametrize(("lot_size", "level", "letter"), _table_1_cases())
def test_table_1_gives_the_code_letter_for_each_lot_size_range_and_level(
    lot_size: int, level: str, letter: str
) -> None:
    assert code_letter(lot_size, InspectionLevel(level)) == letter


@pytest.mark.parametrize(
    ("severity", "letter", "size"),
    [(severity, letter, size) for severity, sizes in SAMPLE_SIZES.items() for letter, size in sizes.items()],
)
def test_each_code_letter_has_its_published_sample_size(severity: Severity, letter: str, size: int) -> None:
    assert sample_size(letter, severity) == size


@pytest.mark.parametrize(("severity", "letter", "aql", "plan_letter", "accept"), _master_cases())
def test_master_table_cell_resolves_to_the_published_plan(
    severity: Severity, letter: str, aql: str, plan_letter: str, accept: int
) -> None:
    expected = MasterPlan(plan_letter, SAMPLE_SIZES[severity][plan_letter], accept, accept + 1)
    assert master_plan(letter, Decimal(aql), severity) == expected


@pytest.mark.parametrize(
    ("lot_size", "aql", "level", "severity", "expected"),
    [
        # lot 1000, level II -> J: the everyday case
        (1000, "1.0", "II", Severity.NORMAL, ("J", "J", 80, 2, False)),
        (1000, "2.5", "II", Severity.NORMAL, ("J", "J", 80, 5, False)),
        (1000, "4.0", "II", Severity.NORMAL, ("J", "J", 80, 7, False)),
        (1000, "2.5", "II", Severity.TIGHTENED, ("J", "J", 80, 3, False)),
        (1000, "2.5", "II", Severity.REDUCED, ("J", "J", 32, 3, False)),
        # letter A at AQL 0.65: arrow down to F, whose 20 items exceed a lot of 8
        (8, "0.65", "II", Severity.NORMAL, ("A", "F", 8, 0, True)),
        # letter F at AQL 1.0: arrow up to E
        (120, "1.0", "II", Severity.NORMAL, ("F", "E", 13, 0, False)),
        # letter G at AQL 1.0: arrow down to H
        (200, "1.0", "II", Severity.NORMAL, ("G", "H", 50, 1, False)),
        # tightened letter H at AQL 1.0 passes two arrows down to J
        (400, "1.0", "II", Severity.TIGHTENED, ("H", "J", 80, 1, False)),
        # tightened letter R at AQL 0.025 points down to S, sample 3150
        (600_000, "0.025", "III", Severity.TIGHTENED, ("R", "S", 3150, 1, False)),
        (600_000, "0.010", "III", Severity.NORMAL, ("R", "Q", 1250, 0, False)),
        # AQL 1000 (nonconformities per 100 items)
        (5, "1000", "II", Severity.NORMAL, ("A", "A", 2, 30, False)),
        (12, "1000", "II", Severity.NORMAL, ("B", "B", 3, 44, False)),
        (1000, "1000", "II", Severity.NORMAL, ("J", "B", 3, 44, False)),
        (1000, "1000", "II", Severity.TIGHTENED, ("J", "B", 3, 41, False)),
        (1000, "650", "I", Severity.NORMAL, ("G", "C", 5, 44, False)),
        # whole-lot inspection: the sample reaches the lot size, Ac/Re unchanged
        (5, "1.0", "III", Severity.NORMAL, ("B", "E", 5, 0, True)),
        (5, "6.5", "III", Severity.NORMAL, ("B", "A", 2, 0, False)),
        (5, "10", "III", Severity.NORMAL, ("B", "C", 5, 1, True)),
        (5, "4.0", "III", Severity.TIGHTENED, ("B", "C", 5, 0, True)),
        (2, "0.010", "II", Severity.NORMAL, ("A", "Q", 2, 0, True)),
        (1250, "0.010", "II", Severity.NORMAL, ("K", "Q", 1250, 0, True)),
        (1251, "0.010", "II", Severity.NORMAL, ("K", "Q", 1250, 0, False)),
        (3000, "0.010", "II", Severity.TIGHTENED, ("K", "R", 2000, 0, False)),
        (1999, "0.010", "II", Severity.TIGHTENED, ("K", "R", 1999, 0, True)),
        # special levels keep samples small
        (10_000, "1.5", "S-1", Severity.NORMAL, ("C", "D", 8, 0, False)),
        (10_000, "1.5", "S-4", Severity.NORMAL, ("G", "G", 32, 1, False)),
    ],
)
def test_sampling_plan_for_a_lot(
    lot_size: int, aql: str, level: str, severity: Severity, expected: tuple[str, str, int, int, bool]
) -> None:
    plan = sampling_plan(lot_size, Decimal(aql), InspectionLevel(level), severity)
    letter, plan_letter, size, accept, whole_lot = expected
    assert (plan.code_letter, plan.plan_letter, plan.sample_size, plan.accept, plan.reject) == (
        letter,
        plan_letter,
        size,
        accept,
        accept + 1,
    )
    assert plan.inspect_whole_lot is whole_lot
    assert (plan.lot_size, plan.aql, plan.level, plan.severity) == (lot_size, Decimal(aql), level, severity)


@pytest.mark.parametrize(("text", "aql"), [("0.010", "0.010"), ("1", "1.0"), ("1.00", "1.0"), (" 6.5 ", "6.5")])
def test_aql_is_read_as_a_member_of_the_preferred_series(text: str, aql: str) -> None:
    parsed = parse_aql(text)
    assert parsed == Decimal(aql)
    assert str(parsed) == aql


@pytest.mark.parametrize("value", ["0.3", "0.30", "3", "0", "-1.0", "abc", "", "NaN", "Infinity", "2000"])
def test_an_aql_outside_the_preferred_series_is_rejected_naming_the_aql(value: str) -> None:
    with pytest.raises(InvalidAql) as raised:
        sampling_plan(100, value, InspectionLevel.II, Severity.NORMAL)  # type: ignore[arg-type]
    assert raised.value.field == "aql"
    assert value.strip() in raised.value.message or value == ""
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("lot_size", [1, 0, -5])
def test_a_lot_smaller_than_two_items_is_rejected_naming_the_lot_size(lot_size: int) -> None:
    with pytest.raises(InvalidLotSize) as raised:
        sampling_plan(lot_size, Decimal("1.0"), InspectionLevel.II, Severity.NORMAL)
    assert raised.value.field == "lot_size"
    with pytest.raises(InvalidLotSize):
        code_letter(lot_size, InspectionLevel.II)


@pytest.mark.parametrize("level", ["IV", "S-5", "ii", ""])
def test_an_unknown_inspection_level_is_rejected_naming_the_level(level: str) -> None:
    with pytest.raises(InvalidLevel) as raised:
        sampling_plan(100, Decimal("1.0"), level, Severity.NORMAL)  # type: ignore[arg-type]
    assert raised.value.field == "level"


def test_an_unknown_severity_is_rejected_naming_the_severity() -> None:
    with pytest.raises(InvalidSeverity) as raised:
        sampling_plan(100, Decimal("1.0"), InspectionLevel.II, "relaxed")  # type: ignore[arg-type]
    assert raised.value.field == "severity"


def test_an_unknown_code_letter_is_rejected_naming_the_code_letter() -> None:
    with pytest.raises(InvalidSamplingParameter) as raised:
        master_plan("I", Decimal("1.0"), Severity.NORMAL)
    assert raised.value.field == "code_letter"


def test_levels_and_severities_may_be_given_by_their_names() -> None:
    plan = sampling_plan(1000, Decimal("1.0"), "II", "tightened")  # type: ignore[arg-type]
    assert (plan.level, plan.severity) == (InspectionLevel.II, Severity.TIGHTENED)
