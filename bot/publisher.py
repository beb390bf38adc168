"""The board publisher: the board card in every registered conversation, kept current.

Any change that affects the board calls `changed()` (reports do it through their
listener; check-ins, requests and registry changes will do the same). Changes are
coalesced: each conversation gets at most one update per `interval` seconds however
fast changes come (counted from the end of one update to the start of the next), and the last update always shows the latest state, because a
change that arrives while an update is on its way marks the board for one more.

Failures never reach the person reporting. A 429 waits for Retry-After; a 404 (the
card was deleted) posts a fresh card and remembers its id; a 403 (the bot was
removed) stops that board until it is registered again; anything else backs off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.board import Board
from bot.cards.board import MAX_REFRESH_USERS, create_board_card
from bot.model import RecordedReport
from bot.proactive import DeliveryError, Messenger, retry_delay
from bot.reports import Reports
from bot.scheduler import Scheduler
from bot.staff import RecordedCheckIn
from bot.supplies import RecordedRequest
from bot.store import BoardRegistration, Journal

log = logging.getLogger(__name__)

JOB = "boards"
# After this many failures in a row a board needs a human: logged at ERROR.
ATTENTION_AFTER = 5
_LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass
class _Board:
    """A registered board and where its updates stand."""

    registration: BoardRegistration
    dirty: bool = True
    not_before: datetime = _LONG_AGO
    attempts: int = 0
    busy: bool = False

    @property
    def live(self) -> bool:
        return not self.registration.stopped


class BoardPublisher:
    """Keep the board card in every registered conversation showing the latest state."""

    def __init__(
        self,
        journal: Journal,
        reports: Reports,
        messenger: Messenger,
        scheduler: Scheduler,
        interval: float,
    ):
        self.journal = journal
        self.reports = reports
        self.messenger = messenger
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.interval = interval
        self.version = 0
        self.updates = 0
        self.retries = 0
        self.failures = 0
        self.last_success: datetime | None = None
        self._boards: dict[str, _Board] = {}
        self._changes = 0

    async def start(self) -> None:
        """Load the registered boards and bring each one up to date."""
        for registration in await self.journal.boards():
            self._boards[registration.conversation_id] = _Board(registration)
        if self._boards:
            log.info("%d boards registered; updating them now", len(self._boards))
            self.changed()

    # Changes

    def changed(self) -> None:
        """Note that the board changed; every live card is updated at its next slot."""
        self.version += 1
        self._changes += 1
        for board in self._boards.values():
            board.dirty = True
        self._schedule()

    async def on_report(self, record: RecordedReport) -> None:
        """Reports listener: a new report changes the board."""
        self.changed()

    async def on_check_in(self, record: RecordedCheckIn) -> None:
        """Check-ins listener: a new check-in changes the staff tally on the board."""
        self.changed()

    async def on_request(self, record: RecordedRequest, *_) -> None:
        """Supply requests listener (new or moved): the open requests are on the board."""
        self.changed()

    # Registration

    async def register(
        self, reference: dict, language: str, zone: str, user_id: str
    ) -> BoardRegistration:
        """Make the conversation in `reference` a board and post its card now.

        Registering a conversation again posts a fresh card; the old one stays as it was.
        """
        registration = BoardRegistration(
            conversation_id=reference["conversation"]["id"],
            reference=reference,
            activity_id=None,
            language=language,
            zone=zone,
            registered_by=user_id,
            registered_at=self.clock.now(),
            viewers=(user_id,),
        )
        await self.journal.save_board(registration)
        board = _Board(registration)
        self._boards[registration.conversation_id] = board
        log.info("board registered in %s by %s", registration.conversation_id, user_id)
        await self._publish([board])
        return board.registration

    async def unregister(self, conversation_id: str) -> bool:
        """Stop updating the board in a conversation; return False when there was none."""
        self._boards.pop(conversation_id, None)
        removed = await self.journal.remove_board(conversation_id)
        if removed:
            log.info("board removed from %s", conversation_id)
        return removed

    def registration(self, conversation_id: str) -> BoardRegistration | None:
        board = self._boards.get(conversation_id)
        return board.registration if board else None

    def live_boards(self) -> list[BoardRegistration]:
        return [board.registration for board in self._boards.values() if board.live]

    async def viewed(self, conversation_id: str, user_id: str) -> None:
        """Remember someone who used the board card, so their copy refreshes itself.

        NOTE: Teams runs a card's automatic refresh only for the user ids it lists, at
        most 60. We list whoever registered the board and the people who used its
        buttons since, newest first; HQ users in BCP_HQ_USERS are Entra object ids,
        not the Teams user ids refresh needs, so they cannot be listed up front.
        """
        board = self._boards.get(conversation_id)
        if board is None or user_id in board.registration.viewers:
            return
        viewers = (user_id, *board.registration.viewers)[:MAX_REFRESH_USERS]
        board.registration = replace(board.registration, viewers=viewers)
        await self.journal.save_board(board.registration)

    # Updates

    async def _run(self) -> None:
        now = self.clock.now()
        due = [
            board
            for board in self._boards.values()
            if board.dirty and board.live and not board.busy and board.not_before <= now
        ]
        if due:
            await self._publish(due)
        else:
            self._schedule()

    async def _publish(self, boards: list[_Board]) -> None:
        """Update `boards` with one board computed for all; log one line for the batch."""
        started = time.perf_counter()
        changes, self._changes = self._changes, 0
        for board in boards:
            board.busy, board.dirty = True, False
        completed = False
        try:
            state = await self.reports.board()
            outcomes = await asyncio.gather(*(self._send(board, state) for board in boards))
            completed = True
        except Exception:
            log.exception("board batch failed before sending; retrying in %.0fs", self.interval)
            retry_at = self.clock.now() + timedelta(seconds=self.interval)
            for board in boards:
                board.not_before = retry_at
            outcomes = ["failed"] * len(boards)
        finally:
            for board in boards:
                board.busy = False
                # A batch cut short (an error, or cancelled at shutdown) is owed again.
                board.dirty = board.dirty or not completed
            self._schedule()

        counted = Counter(outcomes)
        log.info(
            "board batch: %d boards (%s), %d changes coalesced, version %d, %.0fms",
            len(boards),
            ", ".join(f"{count} {outcome}" for outcome, count in sorted(counted.items())),
            changes,
            self.version,
            (time.perf_counter() - started) * 1000,
        )

    async def _send(self, board: _Board, state: Board) -> str:
        registration = board.registration
        card = create_board_card(
            registration.language,
            state,
            zone=board_zone(registration),
            refresh_users=registration.viewers,
            live=True,
            # Only HQ registers boards, so the people who need help are named there.
            names=True,
        )
        posting = registration.activity_id is None
        try:
            if posting:
                await self._post(board, card)
                outcome = "posted"
            else:
                try:
                    await self.messenger.update(
                        registration.reference, registration.activity_id, card
                    )
                    outcome = "updated"
                except DeliveryError as error:
                    if not error.gone:
                        raise
                    log.info(
                        "board card %s in %s is gone (%s); posting a new one",
                        registration.activity_id,
                        registration.conversation_id,
                        error,
                    )
                    board.registration = replace(registration, activity_id=None)
                    posting = True
                    await self._post(board, card)
                    outcome = "reposted"
        except DeliveryError as error:
            return await self._failed(board, error, self.clock.now(), posting)

        # The interval runs from the end of this update, not its start: an update that
        # took a while to reach Teams must not leave the next one less than it behind.
        done = self.clock.now()
        board.attempts = 0
        board.not_before = done + timedelta(seconds=self.interval)
        self.last_success = done
        self.updates += 1
        return outcome

    async def _post(self, board: _Board, card: dict) -> None:
        activity_id = await self.messenger.post(board.registration.reference, card)
        board.registration = replace(board.registration, activity_id=activity_id or None)
        if self._boards.get(board.registration.conversation_id) is board:
            await self.journal.save_board(board.registration)

    async def _failed(self, board: _Board, error: DeliveryError, now: datetime, posting: bool) -> str:
        conversation_id = board.registration.conversation_id
        board.dirty = True
        board.attempts += 1
        if error.blocked or (error.gone and posting):
            self.failures += 1
            board.registration = replace(board.registration, stopped=str(error)[:200])
            if self._boards.get(conversation_id) is board:
                await self.journal.save_board(board.registration)
            log.error(
                "board in %s stopped: Teams refused the card (%s). The bot was probably "
                "removed from that conversation; add it back and type 'board here' there.",
                conversation_id,
                error,
            )
            return "stopped"

        delay = retry_delay(error, board.attempts, self.interval)
        board.not_before = now + timedelta(seconds=delay)
        self.retries += 1
        if error.throttled:
            log.info("board update in %s throttled (%s); retrying in %.1fs", conversation_id, error, delay)
            return "throttled"
        self.failures += 1
        level = logging.ERROR if board.attempts >= ATTENTION_AFTER else logging.WARNING
        log.log(
            level,
            "board update in %s failed (%s), %d in a row; retrying in %.0fs",
            conversation_id,
            error,
            board.attempts,
            delay,
        )
        return "failed"

    def _schedule(self) -> None:
        waiting = [b for b in self._boards.values() if b.dirty and b.live and not b.busy]
        if waiting:
            when = max(min(board.not_before for board in waiting), self.clock.now())
            self.scheduler.at(when, JOB, self._run)

    # Shutdown and health

    async def flush(self) -> None:
        """Send pending updates once, at shutdown; boards waiting out a failure are left."""
        ready = [b for b in self._boards.values() if b.dirty and b.live and not b.busy]
        waiting = [b for b in ready if b.attempts]
        ready = [b for b in ready if not b.attempts]
        if ready:
            await self._publish(ready)
        if waiting:
            log.info("shutdown: %d board updates abandoned while backing off", len(waiting))

    def state(self) -> dict:
        """Return what an operator needs to see: pending updates, last success, retries."""
        boards = list(self._boards.values())
        waiting = [b.not_before for b in boards if b.dirty and b.live]
        return {
            "boards": len(boards),
            "stopped": sum(not b.live for b in boards),
            "pending": len(waiting),
            "version": self.version,
            "updates": self.updates,
            "retries": self.retries,
            "failures": self.failures,
            "last_success": _iso(self.last_success),
            "next_attempt": _iso(max(min(waiting), self.clock.now())) if waiting else None,
        }


def board_zone(registration: BoardRegistration) -> ZoneInfo:
    """Return the time zone of whoever registered the board (UTC if it is unknown)."""
    try:
        return ZoneInfo(registration.zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
