"""HQ's corrections: an edit of the shared board (a SharePoint list) as a journal entry.

A correction is a new report for the site by the person who edited, at the time of the
edit, made from the site's latest report with the edited fields changed. It reaches the
same listeners as a report from Teams (the board cards, alerts, the mirror), so an edit
in the list behaves as if it had been sent from a card. The previous report stays in the
journal, and the correction itself records each field's old and new value.

Conflicts resolve per field, newest wins: a field that the site reported again after
HQ's edit keeps the site's value; HQ's value is still kept in the correction's record.
An edit that changes nothing in the journal (superseded, or breaking a rule) is still
recorded, and the site's row is written back so that the list never keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.graph.delta import ListEdit
from bot.graph.lists import SITES_BOARD
from bot.graph.rows import edited_values
from bot.model import RecordedReport, Rejection, parse_shelter_report
from bot.reports import Reports
from bot.store import Correction
from bot.store.sqlite import report_fields

log = logging.getLogger(__name__)

HISTORY = 50


class Corrections:
    """Take HQ's list edits into the journal through the report use cases' listeners."""

    def __init__(self, reports: Reports, wake: Callable[[], None] = lambda: None):
        """Args:
        wake: wakes the mirror, to write back a row whose edit was not applied.
        """
        self.reports = reports
        self.journal = reports.journal
        self.wake = wake
        self.applied = 0

    async def apply(self, edit: ListEdit) -> RecordedReport | None:
        """Record an edit of the Sites board; return the new report, or None if none."""
        site_id = edit.fields.get("SiteId") or edit.item_key
        site = self.reports.registry.get(site_id)
        history = await self.journal.site_history(site_id, HISTORY)
        if site is None or not history:
            log.warning(
                "HQ edit of Sites board item %s ignored: site %s has no report to correct",
                edit.item_id, site_id,
            )
            return None

        latest = history[0]
        current = latest.report.to_fields()
        changes, merged = {}, dict(current)
        for name, value in edited_values(SITES_BOARD, edit.changed).items():
            if current.get(name, "") == value:
                continue
            newer = _changed_at(history, name) > edit.edited_at
            changes[name] = {"was": current.get(name, ""), "hq": value, "applied": not newer}
            if not newer:
                merged[name] = value
        if not changes:
            return None

        report = None
        if any(change["applied"] for change in changes.values()):
            parsed = parse_shelter_report(merged, self.reports.registry.sites)
            if isinstance(parsed, Rejection):
                log.warning(
                    "HQ edit of site %s by %s not applied: %s",
                    site_id, edit.editor.user_id, ", ".join(sorted(parsed.errors)),
                )
                for name, change in changes.items():
                    change["applied"] = False
                    change["rejected"] = parsed.errors.get(name, "")
            else:
                report = parsed

        correction = Correction(site_id, edit.editor, edit.edited_at, changes)
        submission_id = f"graph-edit:{edit.item_id}:{edit.etag}"
        appended = await self.journal.append_correction(submission_id, report, correction)
        log.info(
            "HQ edit of site %s by %s at %s: %s",
            site_id, edit.editor.user_id, edit.edited_at.isoformat(),
            ", ".join(f"{n}{'' if c['applied'] else ' (superseded)'}" for n, c in changes.items()),
        )
        if report is None:
            await self._put_back(site_id, latest)
            return None
        if appended is None or appended.duplicate:
            return None
        self.applied += 1
        await self.reports.notify(appended.record)
        return appended.record


    async def _put_back(self, site_id: str, latest: RecordedReport) -> None:
        """Queue the site's row as the journal has it, over HQ's edit that was not applied."""
        written = await self.journal.graph_write(SITES_BOARD.key, site_id)
        stale = bool(written.fields.get("Stale")) if written else False
        fields = {**report_fields(latest), "stale": stale}
        if await self.journal.enqueue_board_row(site_id, latest.id, fields, self.reports.clock()):
            log.info("Sites board row of %s queued to put the journal's state back", site_id)
            self.wake()


def _changed_at(history: list[RecordedReport], name: str) -> datetime:
    """Return when the site's current value of field `name` was first reported."""
    value = history[0].report.to_fields().get(name, "")
    since = history[0].received_at
    for record in history[1:]:
        if record.report.to_fields().get(name, "") != value:
            break
        since = record.received_at
    return since
