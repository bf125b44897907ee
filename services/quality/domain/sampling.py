"""ISO 2859-1:1999 single sampling: code letters (Table 1) and master tables 2-A, 2-B and 2-C.

The tables live as data files in ``services/quality/domain/iso_2859_tables``; this module reads them once and
resolves arrows per AQL column. It does no I/O beyond reading its own package data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache, cached_property
from importlib.resources import files
from typing import Any, Final, Literal

from shared.kernel.errors import FieldError, InvalidInput


class InspectionLevel(StrEnum):
    S1 = "S-1"
    S2 = "S-2"
    S3 = "S-3"
    S4 = "S-4"
    I = "I"  # noqa: E741 - the standard names general inspection level I so
    II = "II"
    III = "III"


class Severity(StrEnum):
    NORMAL = "normal"
    TIGHTENED = "tightened"
    REDUCED = "reduced"


PREFERRED_AQLS: Final[tuple[Decimal, ...]] = tuple(
    Decimal(value)
    for value in (
        "0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65",
        "1.0", "1.5", "2.5", "4.0", "6.5", "10", "15", "25", "40", "65",
        "100", "150", "250", "400", "650", "1000",
    )
)  # fmt: skip

MINIMUM_LOT_SIZE: Final = 2


class InvalidSamplingParameter(InvalidInput, ValueError):
    """A sampling request with one bad parameter; ``field`` names it for problem details."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__([FieldError(field, message)])
        self.field = field
        self.message = message


class InvalidAql(InvalidSamplingParameter):
    def __init__(self, value: object) -> None:
        series = ", ".join(str(aql) for aql in PREFERRED_AQLS)
        super().__init__("aql", f"{value!r} is not an AQL of the ISO 2859-1 preferred series ({series})")


class InvalidLotSize(InvalidSamplingParameter):
    def __init__(self, value: object) -> None:
        super().__init__("lot_size", f"lot size must be a whole number of at least 2 items, not {value!r}")


class InvalidLevel(InvalidSamplingParameter):
    def __init__(self, value: object) -> None:
        levels = ", ".join(level.value for level in InspectionLevel)
        super().__init__("level", f"{value!r} is not an inspection level ({levels})")


class InvalidSeverity(InvalidSamplingParameter):
    def __init__(self, value: object) -> None:
        severities = ", ".join(severity.value for severity in Severity)
        super().__init__("severity", f"{value!r} is not a severity of inspection ({severities})")


@dataclass(frozen=True)
class SamplingPlan:
    """A single sampling plan for one lot: inspect ``sample_size`` items, accept if defects ≤ ``accept``."""

    code_letter: str
    plan_letter: str
    sample_size: int
    accept: int
    reject: int
    inspect_whole_lot: bool
    severity: Severity
    aql: Decimal
    level: InspectionLevel
    lot_size: int

    def accepts(self, defects: int) -> bool:
        """Whether a sample with ``defects`` nonconforming items (or nonconformities) passes."""
        return _defect_count(defects) <= self.accept


def parse_aql(value: str | Decimal) -> Decimal:
    """The preferred-series AQL equal to ``value`` (``"1"`` and ``"1.0"`` both give ``Decimal("1.0")``)."""
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise InvalidAql(value)
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise InvalidAql(value) from None
    if number.is_finite():
        for aql in PREFERRED_AQLS:
            if aql == number:
                return aql
    raise InvalidAql(value)


def parse_level(value: str) -> InspectionLevel:
    try:
        return InspectionLevel(value)
    except ValueError:
        raise InvalidLevel(value) from None


def parse_severity(value: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise InvalidSeverity(value) from None


def code_letter(lot_size: int, level: InspectionLevel) -> str:
    """Table 1: the sample size code letter for a lot of ``lot_size`` items at ``level``."""
    lot_size = _lot_size(lot_size)
    column = _code_letters().levels.index(parse_level(level))
    for low, high, letters in _code_letters().ranges:
        if low <= lot_size and (high is None or lot_size <= high):
            return letters[column]
    raise AssertionError("Table 1 covers every lot size from 2 upward")  # pragma: no cover


def sampling_plan(lot_size: int, aql: Decimal, level: InspectionLevel, severity: Severity) -> SamplingPlan:
    """The single sampling plan for a lot, with arrows followed and the whole-lot rule applied."""
    lot_size = _lot_size(lot_size)
    aql = parse_aql(aql)
    level = parse_level(level)
    severity = parse_severity(severity)
    letter = code_letter(lot_size, level)
    plan = master_plan(letter, aql, severity)
    whole_lot = plan.sample_size >= lot_size
    return SamplingPlan(
        code_letter=letter,
        plan_letter=plan.letter,
        sample_size=lot_size if whole_lot else plan.sample_size,
        accept=plan.accept,
        reject=plan.reject,
        inspect_whole_lot=whole_lot,
        severity=severity,
        aql=aql,
        level=level,
        lot_size=lot_size,
    )


@dataclass(frozen=True)
class MasterPlan:
    """A plan read from a master table: the row used after following arrows, and its Ac/Re."""

    letter: str
    sample_size: int
    accept: int
    reject: int


def sample_size(letter: str, severity: Severity) -> int:
    """The sample size of a code letter's row in the master table for ``severity``."""
    table = _master_table(parse_severity(severity))
    return table.rows[_row_index(table, letter)].sample_size


def master_plan(letter: str, aql: Decimal, severity: Severity) -> MasterPlan:
    """Tables 2-A, 2-B, 2-C: the plan for a code letter and AQL, arrows followed within the column."""
    table = _master_table(parse_severity(severity))
    row, (accept, reject) = _resolve(table, _row_index(table, letter), PREFERRED_AQLS.index(parse_aql(aql)))
    return MasterPlan(row.letter, row.sample_size, accept, reject)


def one_step_tighter(aql: Decimal) -> Decimal | None:
    """The next smaller AQL of the preferred series, or None below 0.010."""
    index = PREFERRED_AQLS.index(parse_aql(aql))
    return PREFERRED_AQLS[index - 1] if index > 0 else None


def passes_one_step_tighter(plan: SamplingPlan, defects: int) -> bool:
    """Whether the lot would also have passed had the AQL been one step tighter (switching score).

    The same sample is judged against the acceptance number in the same row of the same master
    table, one AQL column to the left. Where that cell holds no plan (an arrow), the sample cannot
    be judged at the tighter AQL and the answer is False.
    """
    tighter = one_step_tighter(plan.aql)
    if tighter is None:
        return False
    table = _master_table(plan.severity)
    cell = table.rows[table.index[plan.plan_letter]].cells[PREFERRED_AQLS.index(tighter)]
    return isinstance(cell, tuple) and _defect_count(defects) <= cell[0]


# --- the tables --------------------------------------------------------------------------------

Cell = tuple[int, int] | Literal["up", "down"] | None


@dataclass(frozen=True)
class MasterRow:
    letter: str
    sample_size: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class MasterTable:
    severity: Severity
    rows: tuple[MasterRow, ...]

    @cached_property
    def index(self) -> dict[str, int]:
        return {row.letter: position for position, row in enumerate(self.rows)}


@dataclass(frozen=True)
class CodeLetterTable:
    levels: tuple[InspectionLevel, ...]
    ranges: tuple[tuple[int, int | None, tuple[str, ...]], ...]


def _row_index(table: MasterTable, letter: str) -> int:
    index = table.index.get(letter)
    if index is None:
        letters = ", ".join(table.index)
        raise InvalidSamplingParameter("code_letter", f"{letter!r} is not a code letter of Table 1 ({letters})")
    return index


def _resolve(table: MasterTable, start: int, column: int) -> tuple[MasterRow, tuple[int, int]]:
    """Follow an arrow to the first plan in its direction; an arrow off the table is followed back."""
    cell = table.rows[start].cells[column]
    if isinstance(cell, tuple):
        return table.rows[start], cell
    direction = -1 if cell == "up" else 1
    # Table 2-A row A under AQL 10 points up with no row above it; the next plan is the one below.
    for step in (direction, -direction):
        position = start + step
        while 0 <= position < len(table.rows):
            found = table.rows[position].cells[column]
            if isinstance(found, tuple):
                return table.rows[position], found
            position += step
    raise LookupError(f"no plan in column {PREFERRED_AQLS[column]} of the {table.severity} table")


@cache
def _master_table(severity: Severity) -> MasterTable:
    data = _load(f"{severity.value}.json")
    if [Decimal(aql) for aql in data["aqls"]] != list(PREFERRED_AQLS):
        raise ValueError(f"{severity.value}.json does not list the preferred AQL series")
    rows = tuple(
        MasterRow(row["letter"], int(row["sample_size"]), tuple(_cell(text) for text in row["cells"]))
        for row in data["rows"]
    )
    return MasterTable(severity, rows)


@cache
def _code_letters() -> CodeLetterTable:
    data = _load("code_letters.json")
    return CodeLetterTable(
        levels=tuple(InspectionLevel(level) for level in data["levels"]),
        ranges=tuple((int(r["min"]), r["max"], tuple(r["letters"])) for r in data["ranges"]),
    )


def _load(name: str) -> Any:
    return json.loads(files("services.quality.domain.iso_2859_tables").joinpath(name).read_text(encoding="utf-8"))


def _cell(text: str | None) -> Cell:
    if text is None or text in ("up", "down"):
        return text  # type: ignore[return-value]
    accept, reject = text.split("/")
    return int(accept), int(reject)


def _lot_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < MINIMUM_LOT_SIZE:
        raise InvalidLotSize(value)
    return value


def _defect_count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidSamplingParameter("defects", f"defects must be a whole number of at least 0, not {value!r}")
    return value
