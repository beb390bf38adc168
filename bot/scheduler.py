"""The scheduler: timed work (board updates, alert groups, stale checks) on one clock.

Time comes from a `Clock`, so tests move it by hand instead of sleeping. Each job has a
key; scheduling a key that is already waiting keeps the earlier of the two times, which
is what coalescing needs: however many changes ask for a board update, one runs.

Waiting jobs sit in a heap keyed by due time, so adding one costs O(log n) however many
wait (a burst can queue thousands of alert groups and board updates); a key scheduled
again or cancelled leaves its old heap slot behind, skipped when it comes to the top.

The real app runs `Scheduler.run()` as a background task for its whole life (see
bot/services.py); tests drive the same loop with a manual clock and `settle()`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
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
    # Which heap slot is this entry's: older slots of the same key are stale.
    order: int = 0


class Scheduler:
    """Run keyed jobs when their time comes on `clock`."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._orders = itertools.count()
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
        self._push(key, _Entry(when, job, entry.every if entry else None))

    def after(self, seconds: float, key: str, job: Job) -> None:
        """Run `job` `seconds` from now; a key already waiting keeps the earlier time."""
        self.at(self.clock.now() + timedelta(seconds=max(seconds, 0.0)), key, job)

    def every(self, seconds: float, key: str, job: Job, *, first: float | None = None) -> None:
        """Run `job` every `seconds`, the first time after `first` seconds (default: one period)."""
        delay = seconds if first is None else first
        self._push(key, _Entry(self.clock.now() + timedelta(seconds=delay), job, seconds))

    def cancel(self, key: str) -> None:
        self._entries.pop(key, None)

    def pending(self) -> list[str]:
        """Return the keys of the jobs waiting, soonest first."""
        return sorted(self._entries, key=lambda key: self._entries[key].when)

    async def run_due(self) -> int:
        """Run every job whose time has come, concurrently; return how many ran."""
        now = self.clock.now()
        due = self._pop_due(now)
        for key, entry in due:
            if entry.every is None:
                del self._entries[key]
            else:
                entry.when = now + timedelta(seconds=entry.every)
                self._push(key, entry)
        if due:
            await asyncio.gather(*(self._run_one(key, entry.job) for key, entry in due))
        return len(due)

    def _push(self, key: str, entry: _Entry) -> None:
        entry.order = next(self._orders)
        self._entries[key] = entry
        heapq.heappush(self._heap, (entry.when, entry.order, key))
        self._wake.set()

    def _pop_due(self, now: datetime, first_only: bool = False) -> list[tuple[str, _Entry]]:
        """Take the due entries off the heap, leaving those whose key is still running."""
        due, blocked = [], []
        while self._heap and self._heap[0][0] <= now:
            slot = heapq.heappop(self._heap)
            entry = self._entries.get(slot[2])
            if entry is None or entry.order != slot[1]:
                continue
            if slot[2] in self._running:
                blocked.append(slot)
                continue
            due.append((slot[2], entry))
            if first_only:
                blocked.append(slot)
                break
        for slot in blocked:
            heapq.heappush(self._heap, slot)
        return due

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
        return bool(self._pop_due(self.clock.now(), first_only=True))

    def _seconds_to_next(self) -> float:
        while self._heap:
            when, order, key = self._heap[0]
            entry = self._entries.get(key)
            if entry is not None and entry.order == order:
                return min(max((when - self.clock.now()).total_seconds(), 0.0), MAX_SLEEP)
            heapq.heappop(self._heap)
        return MAX_SLEEP

    async def _wait(self, seconds: float) -> None:
        woken = asyncio.ensure_future(self._wake.wait())
        slept = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({woken, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (woken, slept):
                waiter.cancel()
