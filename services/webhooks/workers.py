"""The dispatcher: sends due messages, keeps what each try got, disables subscriptions that keep failing.

Every replica runs one. Each round claims up to ``BATCH`` due messages (``outbox.claim``), signs each with
its subscription's valid keys at the moment of sending, posts them side by side (at most ``PARALLEL`` at
once), and records each outcome as it comes. When nothing is due it looks again every ``POLL_SECONDS`` (an
index scan that finds nothing), so a message leaves about 0.1 s after its event is stored. Once an hour it
drops finished messages older than ``KEEP_LOG``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import timedelta

from services.webhooks import commands, outbox
from services.webhooks.domain.retries import DisablingRule
from services.webhooks.domain.signing import signed_headers
from services.webhooks.transport import Outcome, Sender
from shared.outages import Backoff
from shared.service import ServiceContext

log = logging.getLogger("gotong.webhooks")
BATCH = 50
PARALLEL = 16
POLL_SECONDS = 0.1
KEEP_LOG = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)


def disabling_rule(ctx: ServiceContext) -> DisablingRule:
    settings = ctx.settings
    return DisablingRule(
        disable_after=timedelta(hours=settings.webhooks_disable_after_hours),
        disable_after_failures=settings.webhooks_disable_after_failures,
    )


async def _try(ctx: ServiceContext, sender: Sender, rule: DisablingRule, claimed: outbox.Claimed,
               keys: list[bytes]) -> None:  # fmt: skip
    if not keys:  # the subscription was deleted between the claim and now
        return
    now = ctx.clock.now()
    headers = signed_headers(keys, claimed.message_id, math.floor(now.timestamp()), claimed.body)
    outcome = await sender.post(claimed.url, headers, claimed.body)
    if outcome.error:
        log.info("webhook %s to %s failed: %s", claimed.message_id, claimed.url, outcome.error)
    streak = await outbox.record(ctx.pool, claimed, outcome, ctx.clock.now())
    if streak is None:
        return
    reason = rule.reason(streak, ctx.clock.now())
    if reason is not None and streak.since is not None:
        log.warning("disabling webhook subscription %s: %s", claimed.subscription_id, reason)
        await commands.disable(
            ctx,
            claimed.subscription_id,
            reason=reason,
            failures=streak.failures,
            since=streak.since,
            last_error=_said(outcome),
        )


def _said(outcome: Outcome) -> str:
    return outcome.error or f"answered {outcome.status}"


async def dispatch_once(ctx: ServiceContext, sender: Sender, rule: DisablingRule) -> int:
    """One round: claim, send and record; returns how many messages were tried."""
    now = ctx.clock.now()
    claimed = await outbox.claim(ctx.pool, now, BATCH)
    if not claimed:
        return 0
    keys = await outbox.signing_keys(ctx.pool, {c.subscription_id for c in claimed}, now)
    parallel = asyncio.Semaphore(PARALLEL)

    async def one(message: outbox.Claimed) -> None:
        async with parallel:
            await _try(ctx, sender, rule, message, keys.get(message.subscription_id, []))

    outcomes = await asyncio.gather(*(one(c) for c in claimed), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome  # the others are recorded; an unrecorded try is retried when its lease ends
    return len(claimed)


async def dispatcher(ctx: ServiceContext) -> None:
    """Service worker: send webhooks until cancelled; an outage of PostgreSQL is waited out."""
    sender = Sender(commands.policy(ctx))
    rule = disabling_rule(ctx)
    backoff = Backoff("webhook dispatcher", log)
    pruned_at = None
    try:
        while True:
            if pruned_at is None or ctx.clock.now() - pruned_at >= PRUNE_EVERY:
                await backoff.retry(lambda: outbox.prune(ctx.pool, ctx.clock.now() - KEEP_LOG))
                pruned_at = ctx.clock.now()
            if not await backoff.retry(lambda: dispatch_once(ctx, sender, rule)):
                await asyncio.sleep(POLL_SECONDS)
    finally:
        await sender.close()
