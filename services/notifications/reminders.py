"""Reminders of requests about to expire: due actions at ``expires_at - GOTONG_REMINDER_BEFORE``, fired once
across replicas; a request answered, expired or withdrawn meanwhile gets none."""

from __future__ import annotations

from uuid import UUID

from services.notifications.settings import settings_of
from services.notifications.triggers import REMINDER, remind
from shared.eventstore import Connection
from shared.schedule import DueAction, run_due_actions
from shared.service import ServiceContext

POLL_SECONDS = 1.0


async def fire_reminder(ctx: ServiceContext, action: DueAction, connection: Connection) -> None:
    await remind(connection, settings_of(ctx.store), UUID(action.subject), ctx.clock.now())


async def reminder_worker(ctx: ServiceContext) -> None:
    await run_due_actions(ctx, {REMINDER: fire_reminder}, poll=POLL_SECONDS)
