"""The shelter report use cases: validate, record once, compute the board.

The handler calls these with plain values; nothing here knows about Teams. Listeners
(the board publisher, the Graph mirror) hear about each newly recorded report after
it is committed, and a listener's failure never fails the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable, Mapping

from bot.board import Board, compute_board
from bot.model import RecordedReport, Rejection, Reporter, parse_shelter_report
from bot.sites import Registry
from bot.staff import tally
from bot.store import Journal

log = logging.getLogger(__name__)

ReportListener = Callable[[RecordedReport], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Accepted:
    record: RecordedReport
    duplicate: bool


@dataclass(frozen=True)
class Rejected:
    rejection: Rejection


class Reports:
    """Shelter status reports: submission, history and the board."""

    def __init__(
        self,
        journal: Journal,
        registry: Registry,
        stale_after: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.journal = journal
        self.registry = registry
        self.stale_after = stale_after
        self.clock = clock
        self.listeners: list[ReportListener] = []

    async def submit(
        self, submission_id: str, values: Mapping[str, object], reporter: Reporter
    ) -> Accepted | Rejected:
        """Validate and record a report card submission.

        A submission id already recorded is answered with the first record, so a phone
        that retries on a bad network never records a report twice.
        """
        parsed = parse_shelter_report(values, self.registry.sites)
        if isinstance(parsed, Rejection):
            return Rejected(parsed)

        appended = await self.journal.append_report(
            submission_id, parsed, reporter, self.clock()
        )
        if appended.duplicate:
            log.info("report %s for site %s was already recorded", submission_id, parsed.site_id)
            return Accepted(appended.record, duplicate=True)

        log.info(
            "report %d recorded for site %s (%s, %d evacuees)",
            appended.record.id,
            parsed.site_id,
            parsed.status.value,
            parsed.evacuees,
        )
        await self.notify(appended.record)
        return Accepted(appended.record, duplicate=False)

    async def notify(self, record: RecordedReport) -> None:
        """Tell every listener about a newly recorded report (from Teams or a correction)."""
        for listener in self.listeners:
            try:
                await listener(record)
            except Exception:
                log.exception("a report listener failed for report %d", record.id)

    async def board(self) -> Board:
        """Compute the board: every site's latest report, staff check-ins, open requests."""
        latest = await self.journal.latest_reports()
        attendance = tally(await self.journal.latest_check_ins())
        return compute_board(
            self.registry,
            latest,
            self.clock(),
            self.stale_after,
            attendance=attendance,
            open_requests=await self.journal.open_requests(),
        )
