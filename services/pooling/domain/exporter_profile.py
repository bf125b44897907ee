"""An aggregator's exporter profile: the registered name, business number (NIB), tax number (NPWP) and address
its trade documents and export declarations show. Pure.

Gotong knows an aggregator only as an organisation id; what customs asks for of an exporter is kept here, one
stream per organisation, set whole by its own aggregators (or an admin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec

from events.pooling import ExporterProfileSet
from shared.kernel.decider import Decider
from shared.kernel.digits import is_digits
from shared.kernel.errors import FieldError, InvalidInput


def exporter_stream(org: str) -> str:
    return f"exporter-{org}"


@dataclass(frozen=True)
class ExporterProfile:
    org: str = ""
    name: str = ""
    nib: str = ""
    npwp: str = ""
    address: str = ""

    @property
    def exists(self) -> bool:
        return bool(self.org)


class SetExporterProfile(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    name: str
    nib: str
    npwp: str
    address: str
    by: str
    at: datetime


def npwp_digits(npwp: str) -> str:
    """An NPWP as digits: it is often written ``01.234.567.8-901.000``."""
    return npwp.replace(".", "").replace("-", "").replace(" ", "")


def _errors(command: SetExporterProfile) -> list[FieldError]:
    errors = [FieldError(f, "must not be blank") for f in ("name", "address") if not getattr(command, f).strip()]
    if not (is_digits(command.nib) and len(command.nib) == 13):
        errors.append(FieldError("nib", "must be exactly 13 digits (the business's NIB)"))
    npwp = npwp_digits(command.npwp)
    if not (is_digits(npwp) and len(npwp) in (15, 16)):
        errors.append(FieldError("npwp", "must be an NPWP of 15 or 16 digits (dots, dashes and spaces allowed)"))
    return errors


def decide(command: SetExporterProfile, state: ExporterProfile) -> Sequence[ExporterProfileSet]:
    errors = _errors(command)
    if errors:
        raise InvalidInput(errors)
    after = ExporterProfile(
        command.org, command.name.strip(), command.nib, npwp_digits(command.npwp), command.address.strip()
    )
    if after == state:
        return []
    return [
        ExporterProfileSet(
            org=after.org, name=after.name, nib=after.nib, npwp=after.npwp, address=after.address, set_by=command.by,
            at=command.at,
        )
    ]  # fmt: skip


def evolve(state: ExporterProfile, event: ExporterProfileSet) -> ExporterProfile:
    return ExporterProfile(event.org, event.name, event.nib, event.npwp, event.address)


EXPORTER = Decider[SetExporterProfile, ExporterProfile, ExporterProfileSet](
    "exporter", ExporterProfile(), decide, evolve
)
