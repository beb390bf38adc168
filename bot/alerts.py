"""Critical-need alerts: one message to every HQ board per change, grouped per site.

Staff check-ins alert the same way, grouped per person: a member of staff moving into
"needs help" alerts once, and again only after a check-in that says otherwise.

Reports arrive through the Reports listener and wait `window` seconds, so that several
reports from one site close together make one alert. Each report is compared with the
one before it (bot/critical.py): a supply going out, a shelter going full or a lifeline
going down alerts once, and repeating the same state does not. A change undone within
the window (out, then restocked) is not sent.

The alert's button opens the report that carried the change (verb `report_view`).
NOTE: a Teams deep link to the reporter's message is not possible: the report card
lives in the reporter's own chat with the bot, which HQ cannot open.

Known gap: reports waiting for their window when the process stops are sent at
shutdown if Teams answers in time, and lost after a crash; they are not journaled.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.cards.alert import (
    alert_title,
    create_alert_card,
    create_help_alert_card,
    help_alert_title,
)
from bot.critical import Change, critical_changes, still_true
from bot.model import RecordedReport
from bot.proactive import DeliveryError, Messenger, retry_delay
from bot.publisher import BoardPublisher, board_zone
from bot.scheduler import Scheduler
from bot.sites import Registry
from bot.staff import RecordedCheckIn, Safety, asks_for_help
from bot.store import BoardRegistration, Journal

log = logging.getLogger(__name__)

# Posts to one conversation are spaced out: Teams allows a bot about 60 in 30 s there.
POST_SPACING = 1.0
MAX_ATTEMPTS = 5


@dataclass
class _Delivery:
    """One alert message on its way to one board conversation.

    Attributes:
        subject: what the alert is about, for the logs ("site S001", "staff 29:...").
    """

    subject: str
    conversation_id: str
    reference: dict
    card: dict
    summary: str
    attempts: int = 0


class Alerts:
    """Tell the HQ boards about critical changes at sites."""

    def __init__(
        self,
        journal: Journal,
        registry: Registry,
        publisher: BoardPublisher,
        messenger: Messenger,
        scheduler: Scheduler,
        window: float,
    ):
        self.journal = journal
        self.registry = registry
        self.publisher = publisher
        self.messenger = messenger
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.window = window
        self.sent = 0
        self.retries = 0
        self.failures = 0
        self._waiting: dict[str, list[RecordedReport]] = {}
        self._waiting_staff: dict[str, list[RecordedCheckIn]] = {}
        self._deliveries: dict[str, _Delivery] = {}
        self._next_post: dict[str, datetime] = {}
        self._keys = itertools.count(1)

    async def on_report(self, record: RecordedReport) -> None:
        """Reports listener: hold the report for its site's grouping window."""
        site_id = record.report.site_id
        self._waiting.setdefault(site_id, []).append(record)
        self.scheduler.after(self.window, f"alerts:{site_id}", partial(self._evaluate, site_id))

    async def _evaluate(self, site_id: str) -> None:
        records = sorted(self._waiting.pop(site_id, []), key=lambda record: record.id)
        if not records:
            return
        previous = await self.journal.report_before(site_id, records[0].id)
        before = previous.report if previous else None
        found: dict[Change, None] = {}
        for record in records:
            found.update(dict.fromkeys(critical_changes(before, record.report)))
            before = record.report
        latest = records[-1]
        changes = [change for change in found if still_true(change, latest.report)]
        if not changes:
            return

        site = self.registry.get(site_id)
        boards = self.publisher.live_boards()
        described = ",".join(f"{c.kind.value}:{c.item}" if c.item else c.kind.value for c in changes)
        if site is None or not boards:
            log.warning(
                "critical change at site %s (%s, report %d) but no HQ board is registered "
                "to hear it; type 'board here' in an HQ channel",
                site_id,
                described,
                latest.id,
            )
            return
        log.info(
            "alert for site %s (%s, report %d) to %d boards", site_id, described, latest.id, len(boards)
        )
        for board in boards:
            card = create_alert_card(board.language, site, changes, latest, zone=board_zone(board))
            self.notify(f"site {site_id}", board, card, alert_title(board.language, site))

    async def on_check_in(self, record: RecordedCheckIn) -> None:
        """Check-ins listener: hold the check-in for its person's grouping window."""
        user_id = record.reporter.user_id
        self._waiting_staff.setdefault(user_id, []).append(record)
        self.scheduler.after(
            self.window, f"alerts:staff:{user_id}", partial(self._evaluate_staff, user_id)
        )

    async def _evaluate_staff(self, user_id: str) -> None:
        records = sorted(self._waiting_staff.pop(user_id, []), key=lambda record: record.id)
        if not records:
            return
        previous = await self.journal.check_in_before(user_id, records[0].id)
        before = previous.check_in if previous else None
        asked = False
        for record in records:
            asked = asked or asks_for_help(before, record.check_in)
            before = record.check_in
        latest = records[-1]
        if not asked or latest.check_in.safety is not Safety.NEED_HELP:
            return

        boards = self.publisher.live_boards()
        if not boards:
            log.warning(
                "staff %s asked for help (check-in %d) but no HQ board is registered to "
                "hear it; type 'board here' in an HQ channel",
                user_id,
                latest.id,
            )
            return
        log.info(
            "help alert for staff %s (check-in %d) to %d boards", user_id, latest.id, len(boards)
        )
        for board in boards:
            card = create_help_alert_card(board.language, latest, zone=board_zone(board))
            title = help_alert_title(board.language, latest)
            self.notify(f"staff {user_id}", board, card, title)

    def notify(self, subject: str, board: BoardRegistration, card: dict, summary: str) -> None:
        """Queue a card for a board conversation, spaced and retried like every alert."""
        self.send(subject, board.conversation_id, board.reference, card, summary)

    def send(
        self, subject: str, conversation_id: str, reference: dict, card: dict, summary: str
    ) -> None:
        """Queue a card for any conversation the bot can reach, spaced and retried.

        Args:
            subject: what the message is about, for the logs.
            reference: the serialised conversation reference to post with.
            summary: the notification preview.
        """
        delivery = _Delivery(subject, conversation_id, reference, card, summary)
        self._queue(delivery, self.clock.now())

    def _queue(self, delivery: _Delivery, earliest: datetime) -> None:
        conversation_id = delivery.conversation_id
        when = max(earliest, self._next_post.get(conversation_id, earliest))
        self._next_post[conversation_id] = when + timedelta(seconds=POST_SPACING)
        key = f"alert:{conversation_id}:{next(self._keys)}"
        self._deliveries[key] = delivery
        self.scheduler.at(when, key, partial(self._deliver, key))

    async def _deliver(self, key: str, final: bool = False) -> None:
        delivery = self._deliveries.pop(key, None)
        if delivery is None:
            return
        conversation_id = delivery.conversation_id
        try:
            await self.messenger.post(delivery.reference, delivery.card, delivery.summary)
        except DeliveryError as error:
            delivery.attempts += 1
            if final or error.blocked or error.gone or delivery.attempts >= MAX_ATTEMPTS:
                self.failures += 1
                log.error(
                    "alert for %s to %s dropped after %d attempts: %s",
                    delivery.subject,
                    conversation_id,
                    delivery.attempts,
                    error,
                )
                return
            delay = retry_delay(error, delivery.attempts, self.window)
            self.retries += 1
            log.warning(
                "alert for %s to %s not sent (%s); retrying in %.1fs",
                delivery.subject,
                conversation_id,
                error,
                delay,
            )
            self._queue(delivery, self.clock.now() + timedelta(seconds=delay))
            return
        self.sent += 1

    async def flush(self) -> None:
        """Evaluate waiting reports and try every pending alert once, at shutdown."""
        for site_id in list(self._waiting):
            await self._evaluate(site_id)
        for user_id in list(self._waiting_staff):
            await self._evaluate_staff(user_id)
        keys = list(self._deliveries)
        await asyncio.gather(*(self._deliver(key, final=True) for key in keys))

    def state(self) -> dict:
        return {
            "waiting_sites": len(self._waiting),
            "waiting_staff": len(self._waiting_staff),
            "pending": len(self._deliveries),
            "sent": self.sent,
            "retries": self.retries,
            "failures": self.failures,
        }
