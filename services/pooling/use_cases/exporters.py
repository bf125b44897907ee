"""Aggregators' exporter profiles: set whole by the organisation's own aggregators (or an admin), read by them and
by the trade documents."""

from __future__ import annotations

from datetime import datetime

from services.pooling.domain.exporter_profile import EXPORTER, ExporterProfile, SetExporterProfile, exporter_stream
from shared.api import check_version
from shared.auth import Principal
from shared.decider import CommandOutcome, UnitOfWork, fold_stream, run_command
from shared.eventstore import Connection, Metadata
from shared.kernel.errors import Forbidden, NotFound
from shared.service import ServiceContext


def _require_own(principal: Principal, org: str) -> None:
    if not principal.is_admin and principal.org != org:
        raise Forbidden("an organisation's exporter profile is set and read by its own aggregators (or an admin)")


async def exporter_profile(ctx: ServiceContext, org: str) -> ExporterProfile:
    """The organisation's profile; not ``exists`` when it has none."""
    profile, _ = await fold_stream(ctx.store, EXPORTER, exporter_stream(org))
    return profile


async def read_profile(ctx: ServiceContext, principal: Principal, org: str) -> tuple[ExporterProfile, int]:
    _require_own(principal, org)
    profile, version = await fold_stream(ctx.store, EXPORTER, exporter_stream(org))
    if not profile.exists:
        raise NotFound(f"{org} has no exporter profile yet")
    return profile, version


async def set_profile(
    ctx: ServiceContext,
    principal: Principal,
    org: str,
    *,
    name: str,
    nib: str,
    npwp: str,
    address: str,
    at: datetime,
    expected: int | None,
    metadata: Metadata,
    connection: Connection | None,
) -> CommandOutcome[tuple[ExporterProfile, int]]:
    """Set the whole profile (``If-Match`` version ``expected``, if given); an unchanged profile appends nothing."""
    _require_own(principal, org)
    command = SetExporterProfile(org=org, name=name, nib=nib, npwp=npwp, address=address, by=principal.actor, at=at)
    stream = exporter_stream(org)

    async def work(unit: UnitOfWork) -> tuple[ExporterProfile, int]:
        await unit.load(EXPORTER, stream)
        check_version(expected, await unit.version(stream))
        profile, events = await unit.execute(EXPORTER, stream, command)
        return profile, await unit.version(stream) + len(events)

    return await run_command(ctx.store, work, metadata=metadata, connection=connection, lock_streams=[stream])
