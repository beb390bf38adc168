"""The supply request use cases: ask, move along the lifecycle, list what is open.

Like bot/reports.py: the handler (a card button) and the Graph delta poller (HQ edited
the list) call these with plain values, so a move has the same rules and the same
effects from either side. Listeners hear about each new request and each move after
it is committed (the board publisher, and the notices to HQ and to the requester);
a listener's failure never fails the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Mapping

from bot.model import Rejection, Reporter
from bot.reports import utc_now
from bot.sites import Registry
from bot.store import Journal, MovedRequest
from bot.supplies import MAX_NOTE_LENGTH, RecordedRequest, RequestState, parse_supply_request

log = logging.getLogger(__name__)

CreatedListener = Callable[[RecordedRequest], Awaitable[None]]
MovedListener = Callable[[RecordedRequest, Reporter], Awaitable[None]]


@dataclass(frozen=True)
class Requested:
    record: RecordedRequest
    duplicate: bool


class SupplyRequests:
    """Supply requests from sites, driven by HQ."""

    def __init__(
        self, journal: Journal, registry: Registry, clock: Callable[[], datetime] = utc_now
    ):
        self.journal = journal
        self.registry = registry
        self.clock = clock
        self.created_listeners: list[CreatedListener] = []
        self.moved_listeners: list[MovedListener] = []

    async def submit(
        self, submission_id: str, values: Mapping[str, object], requester: Reporter
    ) -> Requested | Rejection:
        """Validate and record a supply request card submission, once per submission id."""
        parsed = parse_supply_request(values, self.registry.sites)
        if isinstance(parsed, Rejection):
            return parsed

        appended = await self.journal.append_request(submission_id, parsed, requester, self.clock())
        record = appended.record
        if appended.duplicate:
            log.info("supply request %s was already recorded", submission_id)
            return Requested(record, duplicate=True)

        log.info(
            "supply request %d recorded for site %s (%s)",
            record.id,
            parsed.site_id,
            parsed.priority.value,
        )
        await _tell(self.created_listeners, "new request", record.id, record)
        return Requested(record, duplicate=False)

    async def move(
        self,
        request_id: int,
        target: RequestState,
        actor: Reporter,
        *,
        hq: bool,
        event_key: str,
        note: str = "",
        source: str = "teams",
    ) -> MovedRequest:
        """Move a request along its lifecycle, if `actor` may; once per `event_key`.

        Args:
            hq: the actor is HQ (only HQ approves, dispatches and cancels).
            event_key: identifies this move, so that a retried button press or a list
                change read twice moves the request once.
            source: "teams" for a card button, "lists" for an edit in SharePoint.
        """
        moved = await self.journal.move_request(
            request_id,
            target,
            actor,
            self.clock(),
            hq=hq,
            event_key=event_key,
            note=note[:MAX_NOTE_LENGTH],
            source=source,
        )
        if not moved.moved:
            log.info(
                "supply request %d not moved to %s by %s: %s",
                request_id,
                target.value,
                actor.user_id,
                moved.refused or "already done",
            )
            return moved

        log.info(
            "supply request %d moved to %s by %s (%s)",
            request_id,
            target.value,
            actor.user_id,
            source,
        )
        await _tell(self.moved_listeners, "move", request_id, moved.record, actor)
        return moved

    async def annotate(
        self,
        request_id: int,
        note: str,
        actor: Reporter,
        *,
        hq: bool,
        event_key: str,
        written_at: datetime,
        source: str = "lists",
    ) -> MovedRequest:
        """Add HQ's note to an open request without moving it; once per `event_key`.

        The requester hears of it as of a move. A note written before the request's
        latest move is kept in its history but does not replace that move's note.

        Args:
            written_at: when the note was written (HQ's edit in the list), which places
                it in the history and decides which note is newest.
        """
        noted = await self.journal.note_request(
            request_id,
            note[:MAX_NOTE_LENGTH],
            actor,
            written_at,
            hq=hq,
            event_key=event_key,
            source=source,
        )
        if not noted.moved:
            log.info(
                "supply request %d: note by %s not applied: %s",
                request_id,
                actor.user_id,
                noted.refused or "already done",
            )
            return noted

        log.info("supply request %d: note by %s (%s)", request_id, actor.user_id, source)
        await _tell(self.moved_listeners, "note", request_id, noted.record, actor)
        return noted

    async def restore(self, request_id: int) -> RecordedRequest | None:
        """Queue the request's list item again with the journal's state; return the request.

        For an edit of the list that was refused: the list must not keep showing it.
        """
        return await self.journal.requeue_request(request_id, self.clock())

    async def open(self) -> list[RecordedRequest]:
        return await self.journal.open_requests()


async def _tell(listeners: list, what: str, request_id: int, *args) -> None:
    for listener in listeners:
        try:
            await listener(*args)
        except Exception:
            log.exception("a supply request listener failed for the %s of %d", what, request_id)
