"""The scheduler: timed work (board updates, alert groups, stale checks) on one clock.

Time comes from a `Clock`, so tests move it by hand instead of sleeping. Each job has a
key; scheduling a key that is already waiting keeps the earlier of the two times, which
is what coalescing needs: however many changes ask for a board update, one runs.

The real app runs `Scheduler.run()` as a background task for its whole life (see
bot/services.py); tests drive the same loop with a manual clock and `settle()`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable, Protocol

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
# The loop wakes at least this often, so a wall clock that jumps is noticed.
MAX_SLEEP = 60.0


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, timezone-aware."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class _Entry:
    when: datetime
    job: Job
    every: float | None = None


class Scheduler:
    """Run keyed jobs when their time comes on `clock`."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._running: set[str] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task | None = None

    def at(self, when: datetime, key: str, job: Job) -> None:
        """Run `job` at `when`; a key already waiting keeps the earlier time."""
        entry = self._entries.get(key)
        if entry is not None and entry.when <= when:
            entry.job = job
            return
        self._entries[key] = _Entry(when, job, entry.every if entry else None)
        self._wake.set()

    def after(self, seconds: float, key: str, job: Job) -> None:
        """Run `job` `seconds` from now; a key already waiting keeps the earlier time."""
        self.at(self.clock.now() + timedelta(seconds=max(seconds, 0.0)), key, job)

    def every(self, seconds: float, key: str, job: Job, *, first: float | None = None) -> None:
        """Run `job` every `seconds`, the first time after `first` seconds (default: one period)."""
        delay = seconds if first is None else first
        self._entries[key] = _Entry(self.clock.now() + timedelta(seconds=delay), job, seconds)
        self._wake.set()

    def cancel(self, key: str) -> None:
        self._entries.pop(key, None)

    def pending(self) -> list[str]:
        """Return the keys of the jobs waiting, soonest first."""
        return sorted(self._entries, key=lambda key: self._entries[key].when)

    async def run_due(self) -> int:
        """Run every job whose time has come, concurrently; return how many ran."""
        now = self.clock.now()
        due = [
            (key, entry)
            for key, entry in self._entries.items()
            if entry.when <= now and key not in self._running
        ]
        for key, entry in due:
            if entry.every is None:
                del self._entries[key]
            else:
                entry.when = now + timedelta(seconds=entry.every)
        if due:
            await asyncio.gather(*(self._run_one(key, entry.job) for key, entry in due))
        return len(due)

    async def _run_one(self, key: str, job: Job) -> None:
        self._running.add(key)
        started = time.perf_counter()
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled job %s failed", key)
        finally:
            self._running.discard(key)
            log.debug("job %s ran in %.1fms", key, (time.perf_counter() - started) * 1000)

    # The background loop

    def start(self) -> None:
        """Start the background loop on the running event loop."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="bcp-scheduler")

    async def stop(self) -> None:
        """Stop the background loop; a job that is running is cancelled."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def run(self) -> None:
        """Run jobs as they come due, until cancelled."""
        while True:
            self._wake.clear()
            await self.run_due()
            if self._has_due():
                continue
            self._idle.set()
            await self._wait(self._seconds_to_next())
            self._idle.clear()

    async def settle(self) -> None:
        """Return once no job is due and none is running.

        Tests call this after moving a manual clock; without the background loop it
        runs the due jobs itself.
        """
        if self._task is None:
            while self._has_due():
                await self.run_due()
            return
        while True:
            self._idle.clear()
            self._wake.set()
            await self._idle.wait()
            if not self._has_due() and not self._running:
                return

    def _has_due(self) -> bool:
        now = self.clock.now()
        return any(
            entry.when <= now and key not in self._running
            for key, entry in self._entries.items()
        )

    def _seconds_to_next(self) -> float:
        if not self._entries:
            return MAX_SLEEP
        soonest = min(entry.when for entry in self._entries.values())
        return min(max((soonest - self.clock.now()).total_seconds(), 0.0), MAX_SLEEP)

    async def _wait(self, seconds: float) -> None:
        woken = asyncio.ensure_future(self._wake.wait())
        slept = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({woken, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (woken, slept):
                waiter.cancel()
