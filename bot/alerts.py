"""Critical-need alerts: one message to every HQ board per change, grouped per site.

Staff check-ins alert the same way, grouped per person: a member of staff moving into
"needs help" alerts once, and again only after a check-in that says otherwise. New
supply requests (bot/request_notices.py) are alerts too, one per request.

Reports arrive through the Reports listener and wait `window` seconds, so that several
reports from one site close together make one alert. Each report is compared with the
one before it (bot/critical.py): a supply going out, a shelter going full or a lifeline
going down alerts once, and repeating the same state does not. A change undone within
the window (out, then restocked) is not sent.

Each board conversation takes one post a second (POST_SPACING). An alert after a quiet
spell goes at once; alerts for a conversation whose next alert post is still waiting
for its slot join that post instead of queueing their own, and once a post had to wait
like that (a burst), the next one waits ALERT_SPACING after it, gathering. During a burst
HQ gets one card every few seconds listing the sites, people and new requests (each with
its own button, the rest counted and left to the board), and each conversation has at
most one alert post waiting however many reports cross a threshold or requests arrive.
A site or person already in the waiting post is updated in place. A lone new request is
posted as its full card with HQ's buttons; in a group it is a line with a button.

The alert's button opens the report that carried the change (verb `report_view`), the
check-in (`checkin_view`) or the request, with HQ's buttons (`request_view`).
NOTE: a Teams deep link to the reporter's message is not possible: the report card
lives in the reporter's own chat with the bot, which HQ cannot open.

Known gap: reports waiting for their window when the process stops are sent at
shutdown if Teams answers in time, and lost after a crash; they are not journaled.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from bot.cards.alert import Alert, HelpAlert, SiteAlert, create_alert_post
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
# A channel getting a post a second is unreadable: during a burst alerts gather this long.
ALERT_SPACING = 10.0
MAX_ATTEMPTS = 5


@dataclass
class _Delivery:
    """One message on its way to one conversation.

    Attributes:
        subject: what the message is about, for the logs ("site S001", "staff 29:...").
        card, summary: the message; for alerts to a board, made when it is sent from
            `alerts` (by subject), which may grow while the message waits.
        when: when the message is due to be sent.
    """

    subject: str
    conversation_id: str
    reference: dict
    card: dict | None = None
    summary: str = ""
    board: BoardRegistration | None = None
    alerts: dict[str, Alert] = field(default_factory=dict)
    when: datetime | None = None
    attempts: int = 0

    def join(self, subject: str, alert: Alert) -> None:
        """Add an alert, or bring the one about the same subject up to date."""
        earlier = self.alerts.pop(subject, None)
        if isinstance(earlier, SiteAlert) and isinstance(alert, SiteAlert):
            kept = [c for c in earlier.changes if still_true(c, alert.record.report)]
            changes = tuple(dict.fromkeys([*kept, *alert.changes]))
            alert = SiteAlert(alert.site, changes, alert.record)
        self.alerts[subject] = alert
        self.subject = subject if len(self.alerts) == 1 else f"{len(self.alerts)} alerts"

    def message(self) -> tuple[dict, str]:
        if self.card is not None:
            return self.card, self.summary
        board = self.board
        return create_alert_post(
            board.language,
            list(self.alerts.values()),
            zone=board_zone(board),
            viewers=board.viewers,
        )


class Alerts:
    """Tell the HQ boards about critical changes, people asking for help and new requests."""

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
        self.joined = 0
        self._waiting: dict[str, list[RecordedReport]] = {}
        self._waiting_staff: dict[str, list[RecordedCheckIn]] = {}
        # The last submission judged for each site and person: what the next one is
        # compared with, without asking the journal for it each time.
        self._judged: dict[str, RecordedReport] = {}
        self._judged_staff: dict[str, RecordedCheckIn] = {}
        self._deliveries: dict[str, _Delivery] = {}
        self._next_post: dict[str, datetime] = {}
        # The alert post each board conversation has waiting, if any, by delivery key.
        self._gathering: dict[str, str] = {}
        # When the alert post that showed a burst in each conversation is due.
        self._burst: dict[str, datetime] = {}
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
        previous = _last_before(self._judged, site_id, records)
        if previous is None:
            previous = await self.journal.report_before(site_id, records[0].id)
        _keep_last(self._judged, site_id, records)
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
        alert = SiteAlert(site, tuple(changes), latest)
        for board in boards:
            self.alert(f"site {site_id}", board, alert)

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
        previous = _last_before(self._judged_staff, user_id, records)
        if previous is None:
            previous = await self.journal.check_in_before(user_id, records[0].id)
        _keep_last(self._judged_staff, user_id, records)
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
        alert = HelpAlert(latest)
        for board in boards:
            self.alert(f"staff {user_id}", board, alert)

    def alert(self, subject: str, board: BoardRegistration, alert: Alert) -> None:
        """Queue an alert for a board, joining the post already waiting there if any."""
        conversation_id = board.conversation_id
        waiting = self._deliveries.get(self._gathering.get(conversation_id, ""))
        if waiting is not None and waiting.when > self.clock.now():
            waiting.join(subject, alert)
            self.joined += 1
            return
        delivery = _Delivery(subject, conversation_id, board.reference, board=board)
        delivery.join(subject, alert)
        now = earliest = self.clock.now()
        burst_since = self._burst.get(conversation_id)
        if burst_since is not None:
            earliest = max(now, burst_since + timedelta(seconds=ALERT_SPACING))
        self._gathering[conversation_id] = self._queue(delivery, earliest)
        # A post that has to wait for its slot means a burst: the next one gathers longer.
        if delivery.when > now:
            self._burst[conversation_id] = delivery.when
        else:
            self._burst.pop(conversation_id, None)

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

    def _queue(self, delivery: _Delivery, earliest: datetime) -> str:
        conversation_id = delivery.conversation_id
        when = max(earliest, self._next_post.get(conversation_id, earliest))
        self._next_post[conversation_id] = when + timedelta(seconds=POST_SPACING)
        key = f"alert:{conversation_id}:{next(self._keys)}"
        delivery.when = when
        self._deliveries[key] = delivery
        self.scheduler.at(when, key, partial(self._deliver, key))
        return key

    async def _deliver(self, key: str, final: bool = False) -> None:
        delivery = self._deliveries.pop(key, None)
        if delivery is None:
            return
        conversation_id = delivery.conversation_id
        card, summary = delivery.message()
        try:
            await self.messenger.post(delivery.reference, card, summary)
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
            key = self._queue(delivery, self.clock.now() + timedelta(seconds=delay))
            gathering = self._deliveries.get(self._gathering.get(conversation_id, ""))
            if delivery.alerts and gathering is None:
                # Alerts arriving while this post waits out its retry join it.
                self._gathering[conversation_id] = key
            return
        self.sent += 1
        if len(delivery.alerts) > 1:
            log.info("alert post with %d alerts sent to %s", len(delivery.alerts), conversation_id)

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
            "joined": self.joined,
            "retries": self.retries,
            "failures": self.failures,
        }


def _last_before(judged: dict, key: str, records: list):
    """Return the submission judged last for `key` if it is the one just before `records`.

    Every submission reaches the listeners in journal order, so the last one judged is
    the one before the next group, unless it came from another run (then it is unknown).
    """
    last = judged.get(key)
    return last if last is not None and last.id < records[0].id else None


def _keep_last(judged: dict, key: str, records: list) -> None:
    last = judged.get(key)
    if last is None or last.id < records[-1].id:
        judged[key] = records[-1]
