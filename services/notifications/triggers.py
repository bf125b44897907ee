"""Which events tell an MSME something, and the messages they queue (filled in by the triggers' module)."""

from __future__ import annotations

from shared.inbox import Delivery, HandlerContext


async def on_pooling(hctx: HandlerContext, delivery: Delivery) -> None:
    """Requests sent, answers settled, consignments shipped."""


async def on_quality(hctx: HandlerContext, delivery: Delivery) -> None:
    """Lots accepted or rejected."""
