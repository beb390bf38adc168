"""Pacing to SharePoint's resource-unit budget, and backoff after failures.

SharePoint throttles an app per tenant on resource units a minute (a read 1, a write or
a list query 2). A bucket that holds a twentieth of the budget and refills at the rest
over a minute never spends more than the budget in any minute, so a backlog drains at
about 95% of it without meeting a 429.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

MAX_BACKOFF = 300.0


class UnitPacer:
    """Spend resource units no faster than `per_minute` allows.

    Args:
        per_minute: the tenant's budget (BCP_GRAPH_UNITS_PER_MINUTE).
        clock, sleep: injectable for tests (time.monotonic and asyncio.sleep by default).
    """

    def __init__(self, per_minute: int, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep):
        self.capacity = max(2.0, per_minute / 20)
        self.rate = (per_minute - self.capacity) / 60 if per_minute > self.capacity else (
            per_minute / 120
        )
        self.clock, self.sleep = clock, sleep
        self.tokens = self.capacity
        self.stamp = clock()
        self.resume_at = 0.0
        self.spent = 0

    async def spend(self, units: int) -> None:
        """Wait until `units` may be spent, then spend them."""
        units = min(units, self.capacity)
        while True:
            now = self.clock()
            if now < self.resume_at:
                await self.sleep(self.resume_at - now)
                continue
            self._refill(now)
            # NOTE: a tolerance, because a refill after sleeping exactly the shortfall can
            # fall short by a rounding error, and a clock that cannot move by so little
            # would then never let the spend through.
            if self.tokens >= units - 1e-6:
                self.tokens = max(0.0, self.tokens - units)
                self.spent += units
                return
            await self.sleep(max((units - self.tokens) / self.rate, 0.001))

    def hold(self, seconds: float) -> None:
        """Spend nothing for `seconds` (a Retry-After).

        The bucket goes on filling meanwhile: units not spent during the hold were not
        spent against the budget either, so the pace after it stays within the budget.
        """
        now = self.clock()
        self._refill(now)
        self.resume_at = max(self.resume_at, now + seconds)

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now


async def pause(event: asyncio.Event, seconds: float, sleep: Sleep) -> None:
    """Wait `seconds` with `sleep` (the worker's clock), or less if `event` is set."""
    woken = asyncio.ensure_future(event.wait())
    slept = asyncio.ensure_future(sleep(seconds))
    try:
        await asyncio.wait({woken, slept}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (woken, slept):
            waiter.cancel()


def backoff(failures: int, retry_after: float | None, rng: random.Random) -> float:
    """Return seconds to wait after `failures` failures in a row (1 or more).

    Retry-After, when Graph sent one, is obeyed as given. Otherwise exponential backoff
    with full jitter: up to 2 ** failures seconds, at most MAX_BACKOFF.
    """
    if retry_after is not None and retry_after > 0:
        return retry_after
    return rng.uniform(0.5, min(MAX_BACKOFF, 2.0 ** failures))
