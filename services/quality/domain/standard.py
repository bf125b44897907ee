"""The standard decider: a named standard with numbered versions; a published version never changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never
from uuid import UUID

import msgspec

from events.quality import (
    DefectClassAql,
    StandardCreated,
    StandardVersionDrafted,
    StandardVersionPublished,
    StandardVersionRevised,
    StandardVersionSpec,
)
from services.quality.domain.sampling import PREFERRED_AQLS, InvalidAql, parse_aql
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, FieldError, InvalidInput, NotFound

StandardEvent = StandardCreated | StandardVersionDrafted | StandardVersionRevised | StandardVersionPublished


def standard_stream(standard_id: UUID) -> str:
    return f"standard-{standard_id}"


@dataclass(frozen=True)
class CreateStandard:
    standard_id: UUID
    name: str
    description: str
    owner_org: str
    spec: StandardVersionSpec
    publish: bool
    by: str
    at: datetime


@dataclass(frozen=True)
class AddVersion:
    spec: StandardVersionSpec
    publish: bool
    by: str
    at: datetime


@dataclass(frozen=True)
class ReviseVersion:
    version: int
    spec: StandardVersionSpec
    by: str
    at: datetime


@dataclass(frozen=True)
class PublishVersion:
    version: int
    by: str
    at: datetime


StandardCommand = CreateStandard | AddVersion | ReviseVersion | PublishVersion


@dataclass(frozen=True)
class StandardVersion:
    number: int
    spec: StandardVersionSpec
    drafted_at: datetime
    published_at: datetime | None = None

    @property
    def published(self) -> bool:
        return self.published_at is not None


@dataclass(frozen=True)
class Standard:
    standard_id: UUID | None = None
    name: str = ""
    description: str = ""
    owner_org: str = ""
    created_at: datetime | None = None
    versions: tuple[StandardVersion, ...] = ()

    @property
    def exists(self) -> bool:
        return self.standard_id is not None

    def version(self, number: int) -> StandardVersion:
        if not 1 <= number <= len(self.versions):
            raise NotFound(f"standard {self.standard_id} has no version {number}")
        return self.versions[number - 1]


_SERIES = ", ".join(str(aql) for aql in PREFERRED_AQLS)


def checked_spec(spec: StandardVersionSpec) -> StandardVersionSpec:
    """The spec with AQLs written as in the preferred series, or a 422 naming every inconsistent field."""
    errors: list[FieldError] = []
    classes: list[str] = []
    defect_classes: list[DefectClassAql] = []
    for index, entry in enumerate(spec.defect_classes):
        if entry.defect_class in classes:
            errors.append(FieldError(f"defect_classes[{index}].defect_class", "appears more than once"))
        classes.append(entry.defect_class)
        try:
            defect_classes.append(msgspec.structs.replace(entry, aql=parse_aql(entry.aql)))
        except InvalidAql:
            errors.append(FieldError(f"defect_classes[{index}].aql", f"must be in the preferred series ({_SERIES})"))
    names: set[str] = set()
    for index, attribute in enumerate(spec.attributes):
        path = f"attributes[{index}]"
        if attribute.name.casefold() in names:
            errors.append(FieldError(f"{path}.name", "appears more than once"))
        names.add(attribute.name.casefold())
        if attribute.defect_class not in classes:
            errors.append(FieldError(f"{path}.defect_class", "names a defect class this version does not define"))
        if not attribute.nominal.is_finite():
            errors.append(FieldError(f"{path}.nominal", "must be a finite number"))
        for bound, value in (
            ("lower_tolerance", attribute.lower_tolerance),
            ("upper_tolerance", attribute.upper_tolerance),
        ):
            if not value.is_finite() or value < 0:
                errors.append(FieldError(f"{path}.{bound}", "must be a finite, non-negative deviation from nominal"))
    for index, check in enumerate(spec.checks):
        if check.defect_class not in classes:
            errors.append(
                FieldError(f"checks[{index}].defect_class", "names a defect class this version does not define")
            )
    if errors:
        raise InvalidInput(errors)
    return msgspec.structs.replace(spec, defect_classes=defect_classes)


def decide(command: StandardCommand, state: Standard) -> Sequence[StandardEvent]:
    match command:
        case CreateStandard():
            if state.exists:
                raise Conflict(f"standard {state.standard_id} already exists", problem="already-exists")
            created = StandardCreated(
                standard_id=command.standard_id,
                name=command.name,
                description=command.description,
                owner_org=command.owner_org,
                created_by=command.by,
                at=command.at,
            )
            first = Standard(command.standard_id, command.name, command.description, command.owner_org, command.at)
            return [created, *_new_version(first, command.spec, command.publish, command.by, command.at)]
        case AddVersion(spec=spec, publish=publish, by=by, at=at):
            return _new_version(_existing(state), spec, publish, by, at)
        case ReviseVersion(version=number, spec=spec, by=by, at=at):
            version = _existing(state).version(number)
            if version.published:
                raise _immutable(state, number)
            return [
                StandardVersionRevised(
                    standard_id=_id(state), version=number, spec=checked_spec(spec), revised_by=by, at=at
                )
            ]
        case PublishVersion(version=number, by=by, at=at):
            version = _existing(state).version(number)
            if version.published:
                raise _immutable(state, number)
            return [_published(state, version.number, version.spec, by, at)]
        case _:
            assert_never(command)


def _new_version(
    state: Standard, spec: StandardVersionSpec, publish: bool, by: str, at: datetime
) -> list[StandardEvent]:
    number = len(state.versions) + 1
    spec = checked_spec(spec)
    drafted: list[StandardEvent] = [
        StandardVersionDrafted(standard_id=_id(state), version=number, spec=spec, drafted_by=by, at=at)
    ]
    return [*drafted, _published(state, number, spec, by, at)] if publish else drafted


def _published(state: Standard, number: int, spec: StandardVersionSpec, by: str, at: datetime) -> StandardEvent:
    return StandardVersionPublished(
        standard_id=_id(state),
        name=state.name,
        owner_org=state.owner_org,
        version=number,
        spec=spec,
        published_by=by,
        at=at,
    )


def _existing(state: Standard) -> Standard:
    if not state.exists:
        raise NotFound("no such standard")
    return state


def _id(state: Standard) -> UUID:
    assert state.standard_id is not None
    return state.standard_id


def _immutable(state: Standard, number: int) -> Conflict:
    return Conflict(
        f"version {number} of standard {state.standard_id} is published and cannot change; add a new version",
        problem="version-published",
        version=number,
    )


def evolve(state: Standard, event: StandardEvent) -> Standard:
    match event:
        case StandardCreated():
            return Standard(event.standard_id, event.name, event.description, event.owner_org, event.at)
        case StandardVersionDrafted(spec=spec, at=at):
            return replace(state, versions=(*state.versions, StandardVersion(event.version, spec, at)))
        case StandardVersionRevised(version=number, spec=spec):
            return _with_version(state, replace(state.version(number), spec=spec))
        case StandardVersionPublished(version=number, at=at):
            return _with_version(state, replace(state.version(number), published_at=at))
        case _:
            assert_never(event)


def _with_version(state: Standard, version: StandardVersion) -> Standard:
    versions = list(state.versions)
    versions[version.number - 1] = version
    return replace(state, versions=tuple(versions))


STANDARD = Decider[StandardCommand, Standard, StandardEvent]("standard", Standard(), decide, evolve)
