"""Rate limits on the API: per caller, per client address, and on failed authentication per client address.

Token buckets in this process's memory: each replica limits on its own, so N replicas behind a proxy let
a client through up to N times as often.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.exceptions import TooManyRequestsException

from shared.auth import Principal
from shared.config import Rate, Settings


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """A token bucket per key, all at one rate; a bucket that has filled up again is forgotten."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._per_second = rate.requests / rate.seconds
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._pruned = clock()

    def __len__(self) -> int:
        """How many keys have a bucket that is not full."""
        return len(self._buckets)

    def wait(self, key: str) -> float:
        """Seconds until `key` has a request to spend: 0 if it has one now."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = self._refilled(bucket, now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._per_second

    def take(self, key: str) -> float:
        """Spend one request of `key`'s: 0 if it had one, else the seconds until it has (nothing is spent)."""
        now = self._clock()
        self._prune(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = _Bucket(self.rate.requests - 1, now)
            return 0.0
        bucket.tokens, bucket.at = self._refilled(bucket, now), now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self._per_second

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(float(self.rate.requests), bucket.tokens + (now - bucket.at) * self._per_second)

    def _prune(self, now: float) -> None:
        """Forget full buckets once a period: they are the same as none, and keys (addresses) are many."""
        if now - self._pruned < self.rate.seconds:
            return
        self._pruned = now
        full = [key for key, bucket in self._buckets.items() if self._refilled(bucket, now) >= self.rate.requests]
        for key in full:
            del self._buckets[key]


def _refuse(wait: float, detail: str) -> TooManyRequestsException:
    seconds = max(1, math.ceil(wait))
    return TooManyRequestsException(detail=f"{detail}; retry after {seconds} s", headers={"Retry-After": str(seconds)})


class RateLimits:
    """The limits `Settings` ask for; a limit set to None (or `rate_limit` off) is not enforced."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        on = settings.rate_limit is True

        def buckets(rate: Rate | None) -> Buckets | None:
            return Buckets(rate, clock) if on and rate is not None else None

        self._principals = buckets(settings.rate_per_principal)
        self._addresses = buckets(settings.rate_per_address)
        self._failures = buckets(settings.rate_failed_auth)

    def admit_address(self, address: str) -> None:
        """Before authentication: the address's own limit, and none while its failed attempts are spent."""
        if self._failures is not None:
            wait = self._failures.wait(address)
            if wait:
                raise _refuse(wait, f"too many failed authentications from {address} (limit {self._failures.rate})")
        if self._addresses is not None:
            wait = self._addresses.take(address)
            if wait:
                raise _refuse(wait, f"too many requests from {address} (limit {self._addresses.rate})")

    def failed_authentication(self, address: str) -> None:
        if self._failures is not None:
            self._failures.take(address)

    def admit(self, principal: Principal) -> None:
        if self._principals is not None:
            wait = self._principals.take(f"{principal.org}\x00{principal.sub}")
            if wait:
                raise _refuse(wait, f"too many requests by {principal.sub} (limit {self._principals.rate})")
