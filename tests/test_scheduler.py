"""The scheduler (bot.scheduler) on a manual clock: keyed, coalesced, never sleeping."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.scheduler import Scheduler
from tests.support.clock import START, ManualClock


def recorder(ran: list, name: str):
    async def job() -> None:
        ran.append(name)

    return job


async def test_scheduling_a_waiting_key_again_keeps_the_earlier_time_and_runs_once():
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []

    scheduler.at(START + timedelta(seconds=10), "boards", recorder(ran, "first"))
    scheduler.after(5, "boards", recorder(ran, "second"))
    scheduler.after(20, "boards", recorder(ran, "third"))

    clock.advance(4)
    await scheduler.settle()
    assert ran == []
    clock.advance(1)
    await scheduler.settle()
    # One run at the earliest time, with the job given last.
    assert ran == ["third"]
    clock.advance(60)
    await scheduler.settle()
    assert ran == ["third"]


async def test_repeating_job_runs_once_however_far_the_clock_jumps():
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []
    scheduler.every(60, "stale_check", recorder(ran, "check"), first=0)

    await scheduler.settle()
    clock.advance(3 * 3600)
    await scheduler.settle()
    assert ran == ["check", "check"]

    clock.advance(59)
    await scheduler.settle()
    assert len(ran) == 2
    clock.advance(1)
    await scheduler.settle()
    assert len(ran) == 3


async def test_failing_job_is_logged_and_the_others_still_run(caplog):
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("journal unavailable")

    scheduler.after(0, "alerts:S001", broken)
    scheduler.after(0, "boards", recorder(ran, "boards"))
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        await scheduler.settle()

    assert ran == ["boards"]
    assert "scheduled job alerts:S001 failed" in caplog.text
    assert scheduler.pending() == []


async def test_cancelled_job_does_not_run():
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []
    scheduler.after(5, "boards", recorder(ran, "boards"))

    scheduler.cancel("boards")
    clock.advance(10)
    await scheduler.settle()

    assert ran == []


async def test_background_loop_runs_a_job_when_the_clock_reaches_it():
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []
    scheduler.start()
    try:
        scheduler.after(30, "alerts:S001", recorder(ran, "alert"))
        await scheduler.settle()
        assert ran == []

        clock.advance(30)
        await scheduler.settle()
        assert ran == ["alert"]
        assert scheduler.pending() == []
    finally:
        await scheduler.stop()


async def test_job_scheduled_by_a_running_job_runs_in_the_same_settle():
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []

    async def check() -> None:
        ran.append("check")
        scheduler.after(0, "boards", recorder(ran, "boards"))

    scheduler.start()
    try:
        scheduler.after(0, "stale_check", check)
        await scheduler.settle()
        assert ran == ["check", "boards"]
    finally:
        await scheduler.stop()


async def test_many_waiting_jobs_run_in_due_order_once_each_after_rescheduling():
    clock = ManualClock()
    scheduler = Scheduler(clock)
    ran: list[str] = []
    for n in range(1000):
        scheduler.after((n * 7919) % 1000, f"job{n}", recorder(ran, f"job{n}"))
    scheduler.after(0.5, "job999", recorder(ran, "job999"))  # earlier: kept
    scheduler.after(950, "job1", recorder(ran, "job1"))  # later than 919: 919 stays
    scheduler.cancel("job2")

    clock.advance(1000)
    await scheduler.settle()

    assert len(ran) == 999 and "job2" not in ran
    assert ran[:2] == ["job0", "job999"]
    assert ran.index("job3") < ran.index("job1")  # 757 s before 919 s
    assert scheduler.pending() == []
