"""Accounts' background work: keeping the audit trail within its retention."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from services.accounts.read.audit import prune
from shared.outages import Backoff
from shared.service import ServiceContext

log = logging.getLogger("gotong.accounts")
PRUNE_EVERY = 3600.0  # seconds between prunings of the audit trail


async def audit_retention_worker(ctx: ServiceContext) -> None:
    """Every hour, drop the trail's entries older than ``GOTONG_AUDIT_RETENTION_DAYS``; every replica may run it,
    as deleting what another deleted already deletes nothing."""
    backoff = Backoff("pruning the audit trail", log)
    retention = timedelta(days=ctx.settings.audit_retention_days)
    while True:
        pruned = await backoff.retry(lambda: prune(ctx.pool, ctx.clock.now() - retention))
        if pruned:
            log.info("pruned %d audit trail entries older than %d days", pruned, retention.days)
        await asyncio.sleep(PRUNE_EVERY)
