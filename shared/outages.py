"""Outages of PostgreSQL or NATS, told apart from errors of the work itself, and how background loops wait them out.

An outage (connection lost or refused, server shutting down or starting, too many connections, timeouts,
a serialization failure) says nothing about the event or request at hand: it is retried, answered with a
503, and never counted against an event. Anything else (bad data, a violated constraint, an event that does
not decode, a bug in a handler) is a fault of the work, which retrying does not cure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import nats.errors
import nats.js.errors
from asyncpg.exceptions import _base as asyncpg_base

# SQLSTATE classes of errors that come from the server's state, not from the statement or its data:
# 08 connection exception, 40 transaction rollback (serialization, deadlock), 53 insufficient resources
# (too many connections, disk full), 57 operator intervention (shutdown, cannot connect now, statement
# timeout), 58 system error (I/O).
_OUTAGE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_OUTAGE_STATES = frozenset({"55P03", "25P03"})  # lock not available; idle-in-transaction session timeout
_NATS_OUTAGES = (
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.OutboundBufferLimitError,
    nats.js.errors.ServiceUnavailableError,
)
T = TypeVar("T")
# connection closed or lost, pool closing, protocol state lost, refused, timed out
_OUTAGE_TYPES = (asyncpg.InterfaceError, asyncpg_base.InternalClientError, OSError, *_NATS_OUTAGES)


def _is_outage_itself(error: BaseException) -> bool:
    if isinstance(error, asyncpg_base.DataError):
        return False  # a query argument the driver cannot encode: the data's fault
    if isinstance(error, _OUTAGE_TYPES):
        return True
    if isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        return state[:2] in _OUTAGE_CLASSES or state in _OUTAGE_STATES
    return False


def is_outage(error: BaseException) -> bool:
    """Is ``error`` (or the error it was raised ``from``) PostgreSQL or NATS being unreachable, overloaded or
    restarting? An error merely raised while another was handled is judged by itself."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if _is_outage_itself(current):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


class Backoff:
    """Waits between a background loop's retries during an outage: from ``first`` doubling to ``cap`` seconds.

    The first failure of an outage is logged as a warning, the following ones at debug level, and the
    recovery once, so an outage of minutes leaves two lines in the log, not hundreds.
    """

    def __init__(self, what: str, log: logging.Logger, *, first: float = 0.1, cap: float = 5.0) -> None:
        self.what = what
        self.log = log
        self.first = first
        self.cap = cap
        self.failures = 0
        self.delay = first

    async def wait(self, error: BaseException) -> None:
        """Log ``error`` (once per outage) and sleep before the next try."""
        self.failures += 1
        if self.failures == 1:
            self.log.warning("%s: %s: %s; retrying", self.what, type(error).__name__, error)
        else:
            self.log.debug("%s: still failing (%d): %s", self.what, self.failures, error)
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, self.cap)

    def succeeded(self) -> None:
        if self.failures:
            self.log.info("%s: working again after %d failed tries", self.what, self.failures)
        self.failures = 0
        self.delay = self.first

    async def retry(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``attempt()`` until it finishes without an outage; an outage is waited out, any other error raised."""
        while True:
            try:
                result = await attempt()
            except Exception as error:
                if not is_outage(error):
                    raise
                await self.wait(error)
                continue
            self.succeeded()
            return result
