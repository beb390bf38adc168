"""The board publisher's pace (bot.publisher) on a manual clock, with Teams answering slowly.

The scenario tests in test_live_board.py answer at once; here the fake Teams takes its
time, varying from one call to the next, as it does under load.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.publisher import BoardPublisher
from bot.scheduler import Scheduler
from tests.support.clock import ManualClock
from tests.support.samples import sample_board

INTERVAL = 3.0


class SlowTeams:
    """A messenger whose calls take `delays` seconds of the manual clock, in turn.

    Each update reaches Teams when its delay has passed (the request was slow to go
    out); the times it arrived are kept.
    """

    def __init__(self, clock: ManualClock, delays: list[float]):
        self.clock = clock
        self.delays = delays
        self.arrived: list[datetime] = []

    async def post(self, reference: dict, card: dict, summary: str = "") -> str:
        return "activity-1"

    async def update(self, reference: dict, activity_id: str, card: dict) -> None:
        await asyncio.sleep(0)
        self.clock.advance(self.delays[len(self.arrived) % len(self.delays)])
        self.arrived.append(self.clock.now())


class OneBoard:
    """The journal and reports the publisher reads: one board, always the same state."""

    def __init__(self):
        self.state = sample_board(5)

    async def boards(self) -> list:
        return []

    async def save_board(self, registration) -> None:
        pass

    async def board(self):
        return self.state


async def test_two_updates_to_a_conversation_are_never_closer_than_the_interval():
    clock = ManualClock()
    scheduler = Scheduler(clock)
    teams = SlowTeams(clock, delays=[0.8, 0.0, 0.5, 0.1])
    source = OneBoard()
    publisher = BoardPublisher(source, source, teams, scheduler, INTERVAL)
    reference = {"conversation": {"id": "19:hq@thread.tacv2"}}
    await publisher.register(reference, "en", "Asia/Tokyo", "29:hq")

    # A change every tenth of a second for a minute.
    for _ in range(600):
        publisher.changed()
        clock.advance(0.1)
        await scheduler.settle()

    gaps = [(b - a).total_seconds() for a, b in zip(teams.arrived, teams.arrived[1:])]
    assert len(teams.arrived) >= 12
    assert min(gaps) >= INTERVAL
    assert publisher.state()["updates"] == len(teams.arrived) + 1  # and the first post
