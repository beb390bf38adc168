"""The staff check-in use cases: validate, record once, count attendance.

Like bot/reports.py for shelter reports: the handler calls these with plain values,
and listeners (the board publisher, critical-need alerts) hear about each newly
recorded check-in after it is committed; a listener's failure never fails the check-in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Mapping
from zoneinfo import ZoneInfo

from bot.model import Rejection, Reporter
from bot.reports import utc_now
from bot.staff import Attendance, RecordedCheckIn, arrival_moment, parse_check_in, tally
from bot.store import Journal

log = logging.getLogger(__name__)

CheckInListener = Callable[[RecordedCheckIn], Awaitable[None]]


@dataclass(frozen=True)
class CheckedIn:
    record: RecordedCheckIn
    duplicate: bool


class CheckIns:
    """Staff safety and attendance check-ins."""

    def __init__(self, journal: Journal, clock: Callable[[], datetime] = utc_now):
        self.journal = journal
        self.clock = clock
        self.listeners: list[CheckInListener] = []

    async def submit(
        self, submission_id: str, values: Mapping[str, object], reporter: Reporter, zone: ZoneInfo
    ) -> CheckedIn | Rejection:
        """Validate and record a check-in card submission, once per submission id.

        Args:
            zone: the person's time zone, in which their expected arrival time is meant.
        """
        parsed = parse_check_in(values)
        if isinstance(parsed, Rejection):
            return parsed

        now = self.clock()
        appended = await self.journal.append_check_in(
            submission_id, parsed, reporter, now, arrival_moment(parsed.arrival, now, zone)
        )
        if appended.duplicate:
            log.info("check-in %s was already recorded", submission_id)
            return CheckedIn(appended.record, duplicate=True)

        log.info(
            "check-in %d recorded (%s, %s, %s)",
            appended.record.id,
            parsed.safety.value,
            parsed.whereabouts.value,
            parsed.availability.value,
        )
        for listener in self.listeners:
            try:
                await listener(appended.record)
            except Exception:
                log.exception("a check-in listener failed for check-in %d", appended.record.id)
        return CheckedIn(appended.record, duplicate=False)

    async def attendance(self) -> Attendance:
        return tally(await self.journal.latest_check_ins())
