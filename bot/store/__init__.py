"""The journal: the bot's source of truth, and the outbox that feeds the Graph mirror.

Callers hold a `Journal` and never know which backend is behind it; `open_journal`
chooses one from the settings (SQLite is the only one so far).
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

    async def language_of(self, user_id: str) -> str | None: ...

    async def set_language(self, user_id: str, lang: str) -> None: ...

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]: ...

    async def outbox_complete(self, entries: list[OutboxEntry]) -> None: ...

    async def outbox_retry(self, entry: OutboxEntry, error: str, park: bool) -> None: ...

    async def outbox_stats(self) -> dict: ...

    async def outbox_unpark(self) -> int: ...

    async def graph_item_id(self, list_name: str, item_key: str) -> str | None: ...

    async def set_graph_item_id(self, list_name: str, item_key: str, item_id: str) -> None: ...

    async def ping(self) -> bool:
        """Return True when the journal answers a trivial query."""

    async def close(self) -> None: ...


def open_journal(path) -> Journal:
    """Open the SQLite journal at `path`, creating it and its folder on first use."""
    from bot.store.sqlite import SqliteJournal

    return SqliteJournal(path)
