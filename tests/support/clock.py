"""A clock that tests move by hand: the bot's timed work runs when they say so."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

# 09:00 in Tokyo, the morning after a night of reports.
START = datetime(2026, 9, 1, 0, 0, tzinfo=timezone.utc)


class ManualClock:
    """Implement bot.scheduler.Clock; time stands still until `advance()`.

    A sleeper wakes once the clock has been moved past its deadline, never by real time,
    so a test decides exactly what is due.
    """

    def __init__(self, start: datetime = START):
        self._now = start
        self._sleepers: list[tuple[datetime, asyncio.Future]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + timedelta(seconds=seconds)
        if deadline <= self._now:
            await asyncio.sleep(0)
            return
        waiter = asyncio.get_running_loop().create_future()
        entry = (deadline, waiter)
        self._sleepers.append(entry)
        try:
            await waiter
        finally:
            self._sleepers.remove(entry)

    def advance(self, seconds: float) -> datetime:
        """Move time forward by `seconds`, wake the sleepers now due; return the new time."""
        self._now += timedelta(seconds=seconds)
        for deadline, waiter in self._sleepers:
            if deadline <= self._now and not waiter.done():
                waiter.set_result(None)
        return self._now
