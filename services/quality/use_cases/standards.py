"""Use cases of standards: create one, add, revise and publish its versions (its organisation's inspectors)."""

from __future__ import annotations

from uuid import UUID

from events.quality import StandardVersionSpec
from services.quality.domain.standard import (
    STANDARD,
    AddVersion,
    CreateStandard,
    PublishVersion,
    ReviseVersion,
    Standard,
    StandardCommand,
    standard_stream,
)
from services.quality.use_cases import Saved, saved
from shared.api import check_version
from shared.auth import Principal
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Connection, Metadata
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.ids import new_id
from shared.service import ServiceContext


async def create_standard(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    connection: Connection | None,
    *,
    name: str,
    description: str,
    spec: StandardVersionSpec,
    publish: bool,
) -> Saved[Standard]:
    """A standard of the caller's organisation with its first version, published at once if ``publish``."""
    standard_id = new_id()
    stream = standard_stream(standard_id)
    command = CreateStandard(
        standard_id=standard_id,
        name=name,
        description=description,
        owner_org=principal.org,
        spec=spec,
        publish=publish,
        by=principal.sub,
        at=ctx.clock.now(),
    )

    async def work(unit: UnitOfWork) -> Standard:
        state, _ = await unit.execute(STANDARD, stream, command)
        return state

    return saved(await run_command(ctx.store, work, metadata=metadata, connection=connection), stream)


async def add_version(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    connection: Connection | None,
    *,
    standard_id: UUID,
    expected: int | None,
    spec: StandardVersionSpec,
    publish: bool,
) -> Saved[Standard]:
    command = AddVersion(spec=spec, publish=publish, by=principal.sub, at=ctx.clock.now())
    return await _change_standard(ctx, principal, metadata, connection, standard_id, expected, command)


async def revise_version(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    standard_id: UUID,
    expected: int | None,
    number: int,
    spec: StandardVersionSpec,
) -> Saved[Standard]:
    command = ReviseVersion(version=number, spec=spec, by=principal.sub, at=ctx.clock.now())
    return await _change_standard(ctx, principal, metadata, None, standard_id, expected, command)


async def publish_version(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    *,
    standard_id: UUID,
    expected: int | None,
    number: int,
) -> Saved[Standard]:
    command = PublishVersion(version=number, by=principal.sub, at=ctx.clock.now())
    return await _change_standard(ctx, principal, metadata, None, standard_id, expected, command)


async def _change_standard(
    ctx: ServiceContext,
    principal: Principal,
    metadata: Metadata,
    connection: Connection | None,
    standard_id: UUID,
    expected: int | None,
    command: StandardCommand,
) -> Saved[Standard]:
    """Run a command on an existing standard of the caller's organisation."""
    stream = standard_stream(standard_id)

    async def work(unit: UnitOfWork) -> Standard:
        state = await unit.load(STANDARD, stream)
        if not state.exists:
            raise NotFound(f"no standard {standard_id}")
        if state.owner_org != principal.org and not principal.is_admin:
            raise Forbidden(f"only inspectors of {state.owner_org}, which owns this standard, may change it")
        check_version(expected, await unit.version(stream))
        new_state, _ = await unit.execute(STANDARD, stream, command)
        return new_state

    return saved(await run_command(ctx.store, work, metadata=metadata, connection=connection), stream)
