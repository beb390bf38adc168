"""The Sites board's `Stale` flag, kept in step with the board as sites go silent and report.

A report writes its site's row with the flag off. Nothing is written when a site merely
stays silent, so this check, run on the scheduler, compares each site's flag on the
board with what the mirror last wrote to its list item and queues the row again where
they differ. The row carries the site's latest report, so it can never undo a newer one:
the journal queues it only if no report came in meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.graph.lists import SITES_BOARD
from bot.reports import Reports
from bot.store.sqlite import report_fields

log = logging.getLogger(__name__)

JOB = "graph_stale_flags"


class StaleFlags:
    """Queue a Sites board row for every site whose stale flag in the list is out of date.

    Args:
        reports: the board comes from here, and the journal with it.
        wake: called when rows were queued (the mirror's wake).
    """

    def __init__(self, reports: Reports, wake: Callable[[], None]):
        self.reports = reports
        self.journal = reports.journal
        self.wake = wake
        self.flagged = 0

    async def check(self) -> int:
        """Queue the rows whose flag changed; return how many."""
        queued = 0
        for row in (await self.reports.board()).rows:
            if row.latest is None:
                continue
            written = await self.journal.graph_write(SITES_BOARD.key, row.site.id)
            if written is None or bool(written.fields.get("Stale")) == row.stale:
                # Not written yet (its pending row is the newer state), or already right.
                continue
            fields = {**report_fields(row.latest), "stale": row.stale}
            queue = self.journal.enqueue_board_row
            if await queue(row.site.id, row.latest.id, fields, self.reports.clock()):
                queued += 1
        if queued:
            self.flagged += queued
            log.info("Sites board: stale flag changed for %d sites; rows queued", queued)
            self.wake()
        return queued
