"""Use cases of inspections: open one, record its results, resume a discontinued MSME's inspection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from uuid import UUID

from events.quality import (
    DefectClass,
    FirstArticleApproved,
    FirstArticleRejected,
    InspectionOpened,
    LotAccepted,
    LotRejected,
    MsmeQualityAssessed,
)
from services.quality.domain.inspection import (
    INSPECTION,
    Inspection,
    OpenFirstArticle,
    OpenLotInspection,
    RecordResults,
    StandardUsed,
    inspection_stream,
)
from services.quality.domain.quality_record import (
    QUALITY_RECORD,
    RecordFirstArticle,
    RecordLot,
    ResumeInspection,
    record_stream,
)
from services.quality.domain.standard import (
    STANDARD,
    standard_stream,
)
from services.quality.domain.verdicts import MeasuredValues
from services.quality.read.queries import lot_inspections, may_resume
from services.quality.use_cases import Saved, saved
from shared.api import check_version
from shared.auth import Principal
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Connection, Metadata
from shared.kernel.errors import Forbidden, InvalidInput, NotFound
from shared.kernel.ids import new_id
from shared.service import ServiceContext


async def _standard_used(unit: UnitOfWork, standard_id: UUID, number: int) -> StandardUsed:
    standard = await unit.load(STANDARD, standard_stream(standard_id))
    if not standard.exists:
        raise InvalidInput.of("standard_id", "is not a standard")
    if not 1 <= number <= len(standard.versions):
        raise InvalidInput.of("standard_version", f"standard {standard_id} has no version {number}")
    version = standard.version(number)
    if not version.published:
        raise InvalidInput.of("standard_version", "is a draft; only published versions are inspected against")
    return StandardUsed(standard_id, number, version.spec)


def _one_inspection_of_the_lot_at_a_time(lot_id: UUID) -> str:
    """The advisory lock that serialises opening inspections of one lot (a lock key, not a stream of events).

    Whether a lot may be inspected again depends on its earlier inspections, read from the event store; holding
    this lock from that read to the append keeps a second inspection of the lot from slipping in between.
    """
    return f"lot:{lot_id}"


async def open_lot_inspection(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    connection: Connection | None,
    *,
    msme_id: UUID,
    standard_id: UUID,
    standard_version: int,
    lot_id: UUID,
    pool_id: UUID,
    lot_size: int,
    resubmitted: bool,
) -> Saved[InspectionOpened]:
    """Open an inspection of a lot; its plan per defect class follows the MSME's current severity under the
    standard. An organisation judges a lot once (again only as a resubmitted lot after a rejection)."""
    at = ctx.clock.now()

    async def command(unit: UnitOfWork, inspection_id: UUID, standard: StandardUsed) -> OpenLotInspection:
        record = await unit.load(QUALITY_RECORD, record_stream(msme_id, standard_id))
        earlier = await lot_inspections(unit.connection, ctx.schema, lot_id)
        return OpenLotInspection(
            inspection_id=inspection_id,
            lot_id=lot_id,
            pool_id=pool_id,
            msme_id=msme_id,
            lot_size=lot_size,
            resubmitted=resubmitted,
            standard=standard,
            severity=record.switching.severity,
            discontinued=record.discontinued,
            inspector_org=principal.org,
            by=principal.sub,
            at=at,
            earlier=tuple(status for org, status in earlier if org == principal.org),
            second_opinion=any(org != principal.org for org, _ in earlier),
        )

    locks = [_one_inspection_of_the_lot_at_a_time(lot_id)]
    return await _open(ctx, metadata, connection, standard_id, standard_version, command, locks)


async def open_first_article(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    connection: Connection | None,
    *,
    msme_id: UUID,
    standard_id: UUID,
    standard_version: int,
    product_id: UUID,
    sample_size: int,
) -> Saved[InspectionOpened]:
    """Open a first article inspection of an MSME's product: every sampled unit must conform."""
    at = ctx.clock.now()

    async def command(unit: UnitOfWork, inspection_id: UUID, standard: StandardUsed) -> OpenFirstArticle:
        record = await unit.load(QUALITY_RECORD, record_stream(msme_id, standard_id))
        return OpenFirstArticle(
            inspection_id=inspection_id,
            msme_id=msme_id,
            product_id=product_id,
            sample_size=sample_size,
            standard=standard,
            discontinued=record.discontinued,
            inspector_org=principal.org,
            by=principal.sub,
            at=at,
        )

    return await _open(ctx, metadata, connection, standard_id, standard_version, command, [])


async def _open(
    ctx: ServiceContext,
    metadata: Metadata,
    connection: Connection | None,
    standard_id: UUID,
    standard_version: int,
    command: Callable[[UnitOfWork, UUID, StandardUsed], Awaitable[OpenLotInspection | OpenFirstArticle]],
    locks: list[str],
) -> Saved[InspectionOpened]:
    """Open a new inspection against a published version of a standard."""
    inspection_id = new_id()
    stream = inspection_stream(inspection_id)

    async def work(unit: UnitOfWork) -> InspectionOpened:
        standard = await _standard_used(unit, standard_id, standard_version)
        state, _ = await unit.execute(INSPECTION, stream, await command(unit, inspection_id, standard))
        assert state.opened is not None
        return state.opened

    outcome = await run_command(ctx.store, work, metadata=metadata, connection=connection, lock_streams=locks)
    return saved(outcome, stream)


async def record_results(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    connection: Connection | None,
    *,
    inspection_id: UUID,
    expected: int | None,
    defects: Mapping[DefectClass, int],
    measurements: Sequence[MeasuredValues],
) -> Saved[Inspection]:
    """Record defects per class and measurements; the verdict follows once and updates the MSME's record."""
    stream = inspection_stream(inspection_id)
    at = ctx.clock.now()

    async def work(unit: UnitOfWork) -> Inspection:
        inspection = await unit.load(INSPECTION, stream)
        opened = inspection.opened
        if opened is None or not (principal.is_admin or opened.inspector_org == principal.org):
            raise NotFound(f"no inspection {inspection_id}")
        check_version(expected, await unit.version(stream))
        spec = (await unit.load(STANDARD, standard_stream(opened.standard_id))).version(opened.standard_version).spec
        command = RecordResults(defects=defects, measurements=measurements, spec=spec, by=principal.sub, at=at)
        state, (verdict,) = await unit.execute(INSPECTION, stream, command)
        record = record_stream(opened.msme_id, opened.standard_id)
        match verdict:
            case LotAccepted() | LotRejected():
                await unit.execute(QUALITY_RECORD, record, RecordLot(verdict, spec))
            case FirstArticleApproved() | FirstArticleRejected():
                await unit.execute(QUALITY_RECORD, record, RecordFirstArticle(verdict, spec))
        return state

    # The verdict also writes the MSME's record, which other inspections contend for: lock both, in order.
    history, _ = await ctx.store.load(stream)
    opened = next((e for e in history if isinstance(e, InspectionOpened)), None)
    streams = [stream, record_stream(opened.msme_id, opened.standard_id)] if opened else [stream]
    outcome = await run_command(ctx.store, work, metadata=metadata, connection=connection, lock_streams=streams)
    return saved(outcome, stream)


async def resume_inspection(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    msme_id: UUID,
    standard_id: UUID,
    corrective_action: str,
) -> Saved[MsmeQualityAssessed]:
    """After corrective action, discontinued inspection of the MSME under the standard restarts at tightened."""
    stream = record_stream(msme_id, standard_id)
    at = ctx.clock.now()

    async def work(unit: UnitOfWork) -> MsmeQualityAssessed:
        record = await unit.load(QUALITY_RECORD, stream)
        if record.msme_id is None:
            raise NotFound(f"MSME {msme_id} has never been inspected under standard {standard_id}")
        standard = await unit.load(STANDARD, standard_stream(standard_id))
        if not await may_resume(unit.connection, ctx.schema, principal, standard.owner_org, msme_id, standard_id):
            raise Forbidden(
                "only inspectors of the organisation that owns the standard, or of one that inspected the MSME "
                "under it, may resume its inspection"
            )
        command = ResumeInspection(
            msme_id=msme_id,
            standard_id=standard_id,
            corrective_action=corrective_action,
            inspector_org=principal.org,
            by=principal.sub,
            at=at,
        )
        _, events = await unit.execute(QUALITY_RECORD, stream, command)
        assessed = events[-1]
        assert isinstance(assessed, MsmeQualityAssessed)
        return assessed

    outcome = await run_command(ctx.store, work, metadata=metadata, lock_streams=[stream])
    return saved(outcome, stream)
