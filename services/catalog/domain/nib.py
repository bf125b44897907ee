"""The NIB registry: one stream per business number (NIB), so no two MSMEs register with the same one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec

from events.catalog import NibClaimed
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict


@dataclass(frozen=True)
class NibHolder:
    msme_id: UUID | None = None


class ClaimNib(msgspec.Struct, frozen=True, kw_only=True):
    nib: str
    msme_id: UUID
    at: datetime


def decide_nib(command: ClaimNib, state: NibHolder) -> Sequence[NibClaimed]:
    if state.msme_id == command.msme_id:
        return []
    if state.msme_id is not None:
        raise Conflict(f"NIB {command.nib} is already registered to another MSME", problem="duplicate-nib", field="nib")
    return [NibClaimed(nib=command.nib, msme_id=command.msme_id, at=command.at)]


def evolve_nib(state: NibHolder, event: NibClaimed) -> NibHolder:
    return NibHolder(event.msme_id)


NIB_REGISTRY = Decider[ClaimNib, NibHolder, NibClaimed]("nib", NibHolder(), decide_nib, evolve_nib)


def nib_stream(nib: str) -> str:
    return f"nib-{nib}"
