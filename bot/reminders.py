"""Stale-site reminders: chase a site that has gone silent, and flag it on the board.

A site that is open or full and has sent no report for longer than BCP_STALE_AFTER gets
a reminder card, sent to the people who reported for it most recently, at most once per
BCP_STALE_AFTER. A check runs every BCP_STALE_CHECK_EVERY; when the set of silent sites
changes, the live boards are updated so the flag ("no report for 3 h 10 min") appears.

To reach a reporter the bot needs the conversation they reported from: `remember` is
called on every accepted report, and a personal chat is preferred to a group one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.board import SiteRow
from bot.cards.reminder import create_reminder_card
from bot.model import ShelterStatus
from bot.proactive import DeliveryError, Messenger
from bot.publisher import BoardPublisher
from bot.reports import Reports
from bot.scheduler import Scheduler
from bot.store import Contact, Journal

log = logging.getLogger(__name__)

JOB = "stale_check"
RECIPIENTS = 3
HISTORY = 20
REMINDED_STATUSES = (ShelterStatus.OPEN, ShelterStatus.FULL)


class StaleReminders:
    """Find silent sites, remind their latest reporters, refresh the boards."""

    def __init__(
        self,
        journal: Journal,
        reports: Reports,
        messenger: Messenger,
        scheduler: Scheduler,
        publisher: BoardPublisher,
        *,
        every: float,
        zone: ZoneInfo,
    ):
        self.journal = journal
        self.reports = reports
        self.messenger = messenger
        self.scheduler = scheduler
        self.publisher = publisher
        self.clock = scheduler.clock
        self.every = every
        self.zone = zone
        self.sent = 0
        self.failures = 0
        self.last_check: datetime | None = None
        self._flagged: frozenset[str] | None = None
        self._known: dict[str, tuple] = {}

    def start(self) -> None:
        """Check now, then every `every` seconds."""
        self.scheduler.every(self.every, JOB, self.check, first=0)

    async def remember(self, user_id: str, reference: dict, personal: bool, language: str) -> None:
        """Remember the conversation a reporter used, to remind them later."""
        key = (reference.get("conversation", {}).get("id"), personal, language)
        if self._known.get(user_id) == key:
            return
        await self.journal.save_contact(
            Contact(user_id, reference, personal, language, updated_at=self.clock.now())
        )
        self._known[user_id] = key

    async def check(self) -> None:
        """Flag newly silent sites on the boards and remind the ones that are due."""
        now = self.clock.now()
        self.last_check = now
        board = await self.reports.board()

        flagged = frozenset(row.site.id for row in board.rows if row.stale)
        if self._flagged is not None and flagged != self._flagged:
            self.publisher.changed()
        self._flagged = flagged

        silent = [
            row for row in board.rows if row.stale and row.latest.report.status in REMINDED_STATUSES
        ]
        if not silent:
            return
        reminded_at = await self.journal.reminders_sent()
        due = [
            row
            for row in silent
            if row.site.id not in reminded_at
            or now - reminded_at[row.site.id] >= self.reports.stale_after
        ]
        if not due:
            return

        reached = 0
        for row in due:
            reached += await self._remind(row, now)
        log.info(
            "stale check: %d silent sites, %d due a reminder, %d people reminded",
            len(silent),
            len(due),
            reached,
        )

    async def _remind(self, row: SiteRow, now: datetime) -> int:
        """Remind the site's latest reporters; return how many were reached."""
        history = await self.journal.site_history(row.site.id, HISTORY)
        recipients = list(dict.fromkeys(record.reporter.user_id for record in history))
        attempted = reached = 0
        for user_id in recipients[:RECIPIENTS]:
            contact = await self.journal.contact_of(user_id)
            if contact is None or contact.blocked:
                continue
            attempted += 1
            if await self._send(contact, row):
                reached += 1

        # Someone reached, or nobody reachable at all: wait a full interval either way.
        if reached or not attempted:
            await self.journal.record_reminder(row.site.id, now)
        if not attempted:
            log.warning(
                "site %s is silent for %s but none of its last reporters can be reached",
                row.site.id,
                row.age,
            )
        return reached

    async def _send(self, contact: Contact, row: SiteRow) -> bool:
        card = create_reminder_card(
            contact.language, row.site, row.latest, silent_for=row.age, zone=self.zone
        )
        try:
            await self.messenger.post(contact.reference, card)
        except DeliveryError as error:
            self.failures += 1
            if error.blocked:
                await self.journal.block_contact(contact.user_id, str(error))
                # Their next report must save the contact again, which clears the block.
                self._known.pop(contact.user_id, None)
                log.warning(
                    "reminder for site %s refused by %s (%s); not sending them reminders "
                    "until they report again",
                    row.site.id,
                    contact.user_id,
                    error,
                )
            else:
                log.warning(
                    "reminder for site %s to %s failed (%s); the next check tries again",
                    row.site.id,
                    contact.user_id,
                    error,
                )
            return False
        self.sent += 1
        return True

    def state(self) -> dict:
        return {
            "silent_sites": len(self._flagged or ()),
            "reminders_sent": self.sent,
            "failures": self.failures,
            "last_check": self.last_check.isoformat() if self.last_check else None,
            "every_seconds": self.every,
        }
