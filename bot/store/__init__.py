"""The journal: the bot's source of truth, and the outbox that feeds the Graph mirror.

Callers hold a `Journal` and never know which backend is behind it; `open_journal`
chooses one from the settings (SQLite is the only one so far).

Besides reports, the journal remembers what the bot needs to speak first: the
conversations registered as live boards, how to reach each reporter, and when each
site was last reminded. Conversation references are kept as the JSON dicts the Bot
Framework serialises, so nothing here depends on Teams types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.model import RecordedReport, Reporter, ShelterReport
from bot.staff import CheckIn, RecordedCheckIn
from bot.supplies import RecordedRequest, RequestEvent, RequestState, SupplyRequest


@dataclass(frozen=True)
class Appended:
    """The result of appending a report: the record, and whether it was already there."""

    record: RecordedReport
    duplicate: bool


@dataclass(frozen=True)
class AppendedCheckIn:
    """The result of appending a check-in: the record, and whether it was already there."""

    record: RecordedCheckIn
    duplicate: bool


@dataclass(frozen=True)
class AppendedRequest:
    """The result of appending a supply request: the record, and whether it was there."""

    record: RecordedRequest
    duplicate: bool


@dataclass(frozen=True)
class MovedRequest:
    """The result of moving a supply request.

    Attributes:
        record: the request as it is now; None when there is no such request.
        refused: why the move was not made (a locale message key), else empty.
        duplicate: this move (its event key) was already made; nothing changed.
    """

    record: RecordedRequest | None
    refused: str = ""
    duplicate: bool = False

    @property
    def moved(self) -> bool:
        return self.record is not None and not self.refused and not self.duplicate


@dataclass(frozen=True)
class BoardRegistration:
    """A conversation where the board card is kept up to date.

    Attributes:
        conversation_id: the conversation (a channel without a thread, a chat).
        reference: the serialised ConversationReference used to post and update there.
        activity_id: the board card's message id; None until it is posted.
        language: "ja" or "en", the language of whoever registered it.
        zone: IANA time zone for the times on the card.
        registered_by: Teams user id of whoever registered it.
        registered_at: when.
        viewers: Teams user ids whose copy of the card refreshes itself (at most 60).
        stopped: why updates stopped (e.g. the bot was removed); empty while live.
    """

    conversation_id: str
    reference: dict
    activity_id: str | None
    language: str
    zone: str
    registered_by: str
    registered_at: datetime
    viewers: tuple[str, ...] = ()
    stopped: str = ""


@dataclass(frozen=True)
class Contact:
    """How to reach a person proactively: the conversation they last reported from."""

    user_id: str
    reference: dict
    personal: bool
    language: str
    updated_at: datetime
    blocked: str = ""


@dataclass(frozen=True)
class OutboxEntry:
    """The newest pending state of one SharePoint list item."""

    id: int
    list_name: str
    item_key: str
    fields: dict
    attempts: int
    enqueued_at: datetime


@dataclass(frozen=True)
class ParkedRow:
    """An outbox row the mirror gave up on, kept until someone retries it."""

    id: int
    list_name: str
    item_key: str
    attempts: int
    last_error: str
    enqueued_at: datetime


@dataclass(frozen=True)
class GraphWrite:
    """What the mirror last wrote to a list item (SharePoint fields) and the eTag it got."""

    fields: dict
    etag: str


@dataclass(frozen=True)
class Correction:
    """An edit HQ made in a SharePoint list, as the journal records it.

    Attributes:
        editor: who edited, as SharePoint names them (Entra object id and name).
        edited_at: when SharePoint says the edit was made.
        changes: journal field name -> {"was": value before, "hq": HQ's value,
            "applied": whether it became the site's state (False when a newer report
            from the site had already changed that field)}.
        report_id: the journal entry the correction made; None when nothing applied.
    """

    site_id: str
    editor: Reporter
    edited_at: datetime
    changes: dict
    report_id: int | None = None


class Journal(Protocol):
    async def append_report(
        self, submission_id: str, report: ShelterReport, reporter: Reporter, received_at: datetime
    ) -> Appended:
        """Record a report once per submission id, with its outbox rows, in one transaction."""

    async def latest_reports(self) -> dict[str, RecordedReport]:
        """Return the newest report of every site that has one, by site id."""

    async def latest_report(self, site_id: str) -> RecordedReport | None: ...

    async def site_history(self, site_id: str, limit: int = 20) -> list[RecordedReport]: ...

    async def report_count(self) -> int: ...

    async def last_site_of(self, user_id: str) -> str | None:
        """Return the site this user reported for most recently."""

    async def report(self, report_id: int) -> RecordedReport | None: ...

    async def report_before(self, site_id: str, report_id: int) -> RecordedReport | None:
        """Return the site's newest report older than report `report_id`."""

    async def append_check_in(
        self,
        submission_id: str,
        check_in: CheckIn,
        reporter: Reporter,
        received_at: datetime,
        arrival_at: datetime | None,
    ) -> AppendedCheckIn:
        """Record a check-in once per submission id, with its outbox row, in one transaction."""

    async def latest_check_ins(self) -> list[RecordedCheckIn]:
        """Return the newest check-in of every person who checked in, oldest first."""

    async def latest_check_in_of(self, user_id: str) -> RecordedCheckIn | None: ...

    async def check_in(self, check_in_id: int) -> RecordedCheckIn | None: ...

    async def check_in_before(self, user_id: str, check_in_id: int) -> RecordedCheckIn | None:
        """Return this person's newest check-in older than check-in `check_in_id`."""

    async def check_in_count(self) -> int: ...

    async def append_request(
        self, submission_id: str, request: SupplyRequest, requester: Reporter, at: datetime
    ) -> AppendedRequest:
        """Record a supply request once per submission id, with its first event and outbox row."""

    async def move_request(
        self,
        request_id: int,
        target: RequestState,
        actor: Reporter,
        at: datetime,
        *,
        hq: bool,
        event_key: str,
        note: str = "",
        source: str = "teams",
    ) -> MovedRequest:
        """Move a request to `target` if the lifecycle allows it, once per event key."""

    async def note_request(
        self,
        request_id: int,
        note: str,
        actor: Reporter,
        at: datetime,
        *,
        hq: bool,
        event_key: str,
        source: str = "lists",
    ) -> MovedRequest:
        """Record HQ's note on an open request as an event at `at`, once per event key.

        The note becomes the request's note unless a move since `at` set another; then it
        stays in the history only and `refused` is "request_superseded".
        """

    async def requeue_request(self, request_id: int, at: datetime) -> RecordedRequest | None:
        """Queue the request's list item again with its journal state (the list showed
        something else); return the request, or None when there is no such request."""

    async def supply_request(self, request_id: int) -> RecordedRequest | None: ...

    async def open_requests(self) -> list[RecordedRequest]:
        """Return every request not yet delivered or cancelled, oldest first."""

    async def request_events(self, request_id: int) -> list[RequestEvent]: ...

    async def language_of(self, user_id: str) -> str | None: ...

    async def set_language(self, user_id: str, lang: str) -> None: ...

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]: ...

    async def outbox_complete(self, entries: list[OutboxEntry]) -> None: ...

    async def outbox_retry(self, entry: OutboxEntry, error: str, park: bool) -> None: ...

    async def outbox_stats(self) -> dict: ...

    async def outbox_parked(self) -> list[ParkedRow]: ...

    async def outbox_unpark(self) -> int:
        """Give every parked row a fresh start; return how many there were."""

    async def graph_item_id(self, list_name: str, item_key: str) -> str | None: ...

    async def set_graph_item_id(self, list_name: str, item_key: str, item_id: str) -> None: ...

    async def graph_item_key(self, list_name: str, item_id: str) -> str | None: ...

    async def graph_write(self, list_name: str, item_key: str) -> GraphWrite | None: ...

    async def save_graph_write(self, list_name: str, item_key: str, write: GraphWrite) -> None:
        """Remember what the mirror wrote, so the delta poller can tell HQ's edits from it."""

    async def enqueue_board_row(
        self, site_id: str, report_id: int, fields: dict, enqueued_at: datetime
    ) -> bool:
        """Queue the site's Sites board row again, unless a report newer than `report_id`
        came in meanwhile; return True when queued."""

    async def graph_cursor(self, name: str) -> str | None:
        """Return the saved delta link of a list, or None to start with a full sync."""

    async def set_graph_cursor(self, name: str, link: str | None) -> None: ...

    async def append_correction(
        self, submission_id: str, report: ShelterReport | None, correction: Correction
    ) -> Appended | None:
        """Record HQ's edit and, when any field applied, the site's corrected state.

        One transaction, with the outbox rows, like append_report; a submission id
        already recorded is answered with the first record. With no report, only the
        correction is kept (for the history).
        """

    async def corrections(self, site_id: str) -> list[Correction]: ...

    async def boards(self) -> list[BoardRegistration]:
        """Return every conversation registered as a live board, oldest first."""

    async def save_board(self, board: BoardRegistration) -> None:
        """Insert or replace the registration of `board.conversation_id`."""

    async def remove_board(self, conversation_id: str) -> bool:
        """Forget a board; return False when there was none."""

    async def save_contact(self, contact: Contact) -> None:
        """Remember how to reach a person; a personal chat is never replaced by a group one."""

    async def contact_of(self, user_id: str) -> Contact | None: ...

    async def block_contact(self, user_id: str, reason: str) -> None:
        """Record that messages to this person are refused, and why."""

    async def reminders_sent(self) -> dict[str, datetime]:
        """Return when each site was last reminded, by site id."""

    async def record_reminder(self, site_id: str, sent_at: datetime) -> None: ...

    async def ping(self) -> bool:
        """Return True when the journal answers a trivial query."""

    async def close(self) -> None: ...


def open_journal(path) -> Journal:
    """Open the SQLite journal at `path`, creating it and its folder on first use."""
    from bot.store.sqlite import SqliteJournal

    return SqliteJournal(path)
