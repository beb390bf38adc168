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


@dataclass(frozen=True)
class Appended:
    """The result of appending a report: the record, and whether it was already there."""

    record: RecordedReport
    duplicate: bool


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

    async def language_of(self, user_id: str) -> str | None: ...

    async def set_language(self, user_id: str, lang: str) -> None: ...

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]: ...

    async def outbox_complete(self, entries: list[OutboxEntry]) -> None: ...

    async def outbox_retry(self, entry: OutboxEntry, error: str, park: bool) -> None: ...

    async def outbox_stats(self) -> dict: ...

    async def outbox_unpark(self) -> int: ...

    async def graph_item_id(self, list_name: str, item_key: str) -> str | None: ...

    async def set_graph_item_id(self, list_name: str, item_key: str, item_id: str) -> None: ...

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
