"""Certificates' expiry notices: a due action per certificate and notice fires ``NoticeExpiry`` on its day."""

from __future__ import annotations

from uuid import UUID

from services.catalog.commands import CERTIFICATE_EXPIRY, notice_expiry
from services.catalog.domain.msme import NoticeExpiry
from shared.decider import run_command
from shared.eventstore import Connection, Metadata
from shared.schedule import DueAction, run_due_actions
from shared.service import ServiceContext


async def notice_certificate_expiry(ctx: ServiceContext, action: DueAction, connection: Connection) -> None:
    """The due action of an expiry notice: the ordinary command, which gives each notice once."""
    now = ctx.clock.now()
    command = NoticeExpiry(
        certification_id=UUID(action.payload["certification_id"]),
        notice_days=int(action.payload["notice_days"]),
        today=now.date(),
        at=now,
    )
    metadata = Metadata(
        correlation_id=action.payload["certification_id"],
        actor="catalog:certificate-expiry",
        command_id=f"{CERTIFICATE_EXPIRY}:{action.subject}",
    )
    msme_id = UUID(action.payload["msme_id"])
    await run_command(ctx.store, lambda unit: notice_expiry(unit, msme_id, command), metadata=metadata,
                      connection=connection)  # fmt: skip


async def certificate_expiry_worker(ctx: ServiceContext) -> None:
    """Service worker: tell holders of certificates about to expire."""
    await run_due_actions(ctx, {CERTIFICATE_EXPIRY: notice_certificate_expiry})
