"""Time as the connectors see it, and the token bucket that paces their requests.

Waiting is injected (`Clock`), so tests assert that a wait was asked for (a `Retry-After`, an empty
rate-limit bucket) without sleeping through it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: for token lifetimes and rate limits."""
        ...

    def now(self) -> datetime:
        """The wall-clock time, timezone-aware (UTC): for the time windows sent to the APIs."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TokenBucket:
    """The client side of a rate limit stated as `rate` requests per second with a `burst`: starts full
    (as the server's bucket is for a client that was quiet), and `take` waits for a token when empty.
    After a 429 the server's bucket is known to be empty, so `drain` empties ours too."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def take(self) -> float:
        """Spend one token, waiting for it if need be; returns the seconds waited."""
        async with self._lock:
            self._refill()
            waited = 0.0
            if self._tokens < 1:
                waited = (1 - self._tokens) / self.rate
                await self._clock.sleep(waited)
                self._refill()
            self._tokens = max(self._tokens, 1.0) - 1
            return waited

    def drain(self) -> None:
        self._refill()
        self._tokens = min(self._tokens, 0.0)

    def adopt_rate(self, rate: float) -> None:
        """The server stated the rate that applies (Amazon's `x-amzn-RateLimit-Limit`): use it."""
        if rate > 0 and rate != self.rate:
            self._refill()
            self.rate = rate


__all__ = ["Clock", "SystemClock", "TokenBucket"]
