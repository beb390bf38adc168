"""The journal on SQLite (WAL): the embedded default.

One connection, used from one dedicated thread, so the event loop never blocks on
disk and writes are serialised without locks of our own. Every accepted report is
committed before the user gets an answer.

Submissions are committed in groups: while one group is being written, the submissions
that arrive queue up and go together as the next group, one transaction with a
savepoint each, so a submission that fails leaves the others in its group alone. A lone
submission waits for nobody; under load, hundreds of people a second share a commit and
a trip to the journal thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from bot.errors import JournalError
from bot.model import Lifeline, RecordedReport, Reporter, ShelterReport, ShelterStatus, SupplyLevel
from bot.store import Appended, OutboxEntry
from bot.store.sqlite_checkins import SCHEMA as CHECKIN_SCHEMA
from bot.store.sqlite_checkins import CheckInTables
from bot.store.sqlite_conversations import SCHEMA as CONVERSATION_SCHEMA
from bot.store.sqlite_conversations import ConversationTables
from bot.store.sqlite_graph import SCHEMA as GRAPH_SCHEMA
from bot.store.sqlite_graph import GraphTables
from bot.store.sqlite_requests import SCHEMA as REQUEST_SCHEMA
from bot.store.sqlite_requests import RequestTables
from bot.store.stamps import db_stamp

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    submission_id TEXT NOT NULL UNIQUE,
    site_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    reporter_id TEXT NOT NULL,
    reporter_aad TEXT NOT NULL,
    reporter_name TEXT NOT NULL,
    status TEXT NOT NULL,
    evacuees INTEGER NOT NULL,
    households INTEGER NOT NULL,
    care_needed INTEGER NOT NULL,
    capacity INTEGER,
    lifelines TEXT NOT NULL,
    supplies TEXT NOT NULL,
    needs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_site ON reports (site_id, id);
CREATE INDEX IF NOT EXISTS reports_by_reporter ON reports (reporter_id, id);

CREATE TABLE IF NOT EXISTS preferences (
    user_id TEXT PRIMARY KEY,
    language TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    list_name TEXT NOT NULL,
    item_key TEXT NOT NULL,
    fields TEXT NOT NULL,
    enqueued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    parked INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_by_item ON outbox (list_name, item_key, id);

CREATE TABLE IF NOT EXISTS graph_items (
    list_name TEXT NOT NULL,
    item_key TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (list_name, item_key)
);
"""

REPORT_COLUMNS = (
    "id, submission_id, site_id, received_at, reporter_id, reporter_aad, reporter_name, "
    "status, evacuees, households, care_needed, capacity, lifelines, supplies, needs"
)


class SqliteJournal(ConversationTables, CheckInTables, GraphTables, RequestTables):
    """The Journal protocol on one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._db: sqlite3.Connection | None = None
        # Every activity asks for its sender's language; the few people who chose one
        # are kept in memory (written through), so asking costs no trip to the thread.
        self._languages: dict[str, str] = {}
        # The board needs the latest report of every site, for every board command and
        # every live board update; once read they are kept, each new report replacing its
        # site's (reports are only ever appended).
        self._latest: dict[str, RecordedReport] | None = None
        self._check_ins_kept = None  # see CheckInTables
        self._open_kept = None  # see RequestTables
        # Submissions waiting for the next group commit, and whether a group is out.
        self._queued: list[tuple[Callable, tuple, asyncio.Future]] = []
        self._committing = False
        self._executor.submit(self._open).result()

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash; only power loss may drop the
            # last transactions, which the phones then resubmit with the same id.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(SCHEMA)
            db.executescript(CONVERSATION_SCHEMA)
            db.executescript(GRAPH_SCHEMA)
            db.executescript(CHECKIN_SCHEMA)
            db.executescript(REQUEST_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._languages = dict(db.execute("SELECT user_id, language FROM preferences"))
        except (OSError, sqlite3.Error) as error:
            raise JournalError(f"cannot open the journal at {self.path}: {error}") from error
        self._db = db

    async def _run(self, function, *args):
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except sqlite3.Error as error:
            raise JournalError(f"journal {self.path}: {error}") from error

    async def _submit(self, function: Callable, *args):
        """Run `function(*args)` inside the next group commit and return its result.

        `function` runs in the journal thread inside an open transaction: it must not
        begin, commit or roll back itself.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queued.append((function, args, future))
        if not self._committing:
            self._committing = True
            self._send_group(loop)
        try:
            return await future
        except sqlite3.Error as error:
            raise JournalError(f"journal {self.path}: {error}") from error

    def _send_group(self, loop: asyncio.AbstractEventLoop) -> None:
        group, self._queued = self._queued, []
        done = loop.run_in_executor(self._executor, self._commit_group, group)
        done.add_done_callback(partial(self._group_committed, loop, group))

    def _group_committed(self, loop, group: list, done: asyncio.Future) -> None:
        failure = done.exception()
        outcomes = [(False, failure)] * len(group) if failure else done.result()
        for (_, _, future), (ok, value) in zip(group, outcomes):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if self._queued:
            self._send_group(loop)
        else:
            self._committing = False

    def _commit_group(self, group: list) -> list[tuple[bool, object]]:
        db = self._db
        outcomes = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for function, args, _ in group:
                db.execute("SAVEPOINT submission")
                try:
                    outcomes.append((True, function(*args)))
                except Exception as error:  # noqa: BLE001 - it goes to its own caller
                    db.execute("ROLLBACK TO submission")
                    outcomes.append((False, error))
                db.execute("RELEASE submission")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return outcomes

    # Reports

    async def append_report(
        self, submission_id: str, report: ShelterReport, reporter: Reporter, received_at: datetime
    ) -> Appended:
        appended = await self._submit(
            self._append_report, submission_id, report, reporter, received_at
        )
        record = appended.record
        if self._latest is not None and not appended.duplicate:
            current = self._latest.get(record.report.site_id)
            if current is None or current.id < record.id:
                self._latest[record.report.site_id] = record
        return appended

    def _append_report(self, submission_id, report, reporter, received_at) -> Appended:
        db = self._db
        existing = db.execute(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE submission_id = ?", (submission_id,)
        ).fetchone()
        if existing:
            return Appended(_record(existing), duplicate=True)

        stamp = db_stamp(received_at)
        cursor = db.execute(
            f"INSERT INTO reports ({REPORT_COLUMNS}) "
            "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                submission_id,
                report.site_id,
                stamp,
                reporter.user_id,
                reporter.aad_object_id,
                reporter.name,
                report.status.value,
                report.evacuees,
                report.households,
                report.care_needed,
                report.capacity,
                json.dumps({k: v.value for k, v in report.lifelines.items()}),
                json.dumps({k: v.value for k, v in report.supplies.items()}),
                report.needs,
            ),
        )
        record = RecordedReport(
            id=cursor.lastrowid,
            submission_id=submission_id,
            report=report,
            reporter=reporter,
            received_at=received_at.astimezone(timezone.utc),
        )
        self._enqueue(db, "reports", f"report-{record.id}", record, stamp)
        self._enqueue(db, "sites", report.site_id, record, stamp)
        return Appended(record, duplicate=False)

    @staticmethod
    def _enqueue(db, list_name: str, item_key: str, record: RecordedReport, stamp: str) -> None:
        db.execute(
            "INSERT INTO outbox (list_name, item_key, fields, enqueued_at) VALUES (?, ?, ?, ?)",
            (list_name, item_key, json.dumps(report_fields(record), ensure_ascii=False), stamp),
        )

    async def latest_reports(self) -> dict[str, RecordedReport]:
        if self._latest is None:
            rows = await self._run(
                self._query,
                f"SELECT {REPORT_COLUMNS} FROM reports WHERE id IN "
                "(SELECT MAX(id) FROM reports GROUP BY site_id)",
                (),
            )
            # The one journal thread runs calls in order and they resume in order: an
            # append is either in these rows or updates them once they are kept.
            self._latest = {row[2]: _record(row) for row in rows}
        return dict(self._latest)

    async def latest_report(self, site_id: str) -> RecordedReport | None:
        history = await self.site_history(site_id, limit=1)
        return history[0] if history else None

    async def site_history(self, site_id: str, limit: int = 20) -> list[RecordedReport]:
        rows = await self._run(
            self._query,
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE site_id = ? ORDER BY id DESC LIMIT ?",
            (site_id, limit),
        )
        return [_record(row) for row in rows]

    async def report(self, report_id: int) -> RecordedReport | None:
        rows = await self._run(
            self._query, f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?", (report_id,)
        )
        return _record(rows[0]) if rows else None

    async def report_before(self, site_id: str, report_id: int) -> RecordedReport | None:
        rows = await self._run(
            self._query,
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE site_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT 1",
            (site_id, report_id),
        )
        return _record(rows[0]) if rows else None

    async def report_count(self) -> int:
        rows = await self._run(self._query, "SELECT COUNT(*) FROM reports", ())
        return rows[0][0]

    async def last_site_of(self, user_id: str) -> str | None:
        rows = await self._run(
            self._query,
            "SELECT site_id FROM reports WHERE reporter_id = ? ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        return rows[0][0] if rows else None

    # Preferences

    async def language_of(self, user_id: str) -> str | None:
        return self._languages.get(user_id)

    async def set_language(self, user_id: str, lang: str) -> None:
        await self._run(
            self._execute,
            "INSERT INTO preferences (user_id, language) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language",
            (user_id, lang),
        )
        self._languages[user_id] = lang

    # Outbox for the Graph mirror

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]:
        rows = await self._run(
            self._query,
            "SELECT id, list_name, item_key, fields, attempts, enqueued_at FROM outbox "
            "WHERE parked = 0 AND id IN "
            "(SELECT MAX(id) FROM outbox GROUP BY list_name, item_key) "
            "ORDER BY id LIMIT ?",
            (limit,),
        )
        return [
            OutboxEntry(
                id=row[0],
                list_name=row[1],
                item_key=row[2],
                fields=json.loads(row[3]),
                attempts=row[4],
                enqueued_at=datetime.fromisoformat(row[5]),
            )
            for row in rows
        ]

    async def outbox_complete(self, entries: list[OutboxEntry]) -> None:
        await self._run(
            self._execute_many,
            "DELETE FROM outbox WHERE list_name = ? AND item_key = ? AND id <= ?",
            [(e.list_name, e.item_key, e.id) for e in entries],
        )

    async def outbox_retry(self, entry: OutboxEntry, error: str, park: bool) -> None:
        await self._run(
            self._execute,
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, parked = ? WHERE id = ?",
            (error[:500], int(park), entry.id),
        )

    async def outbox_stats(self) -> dict:
        rows = await self._run(
            self._query,
            "SELECT "
            "(SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE parked = 0 "
            " GROUP BY list_name, item_key)), "
            "(SELECT COUNT(*) FROM outbox WHERE parked = 1), "
            "(SELECT MIN(enqueued_at) FROM outbox WHERE parked = 0)",
            (),
        )
        pending, parked, oldest = rows[0]
        return {
            "pending": pending,
            "parked": parked,
            "oldest_enqueued_at": oldest,
        }

    async def outbox_unpark(self) -> int:
        return await self._run(
            self._execute, "UPDATE outbox SET parked = 0, attempts = 0 WHERE parked = 1", ()
        )

    async def graph_item_id(self, list_name: str, item_key: str) -> str | None:
        rows = await self._run(
            self._query,
            "SELECT item_id FROM graph_items WHERE list_name = ? AND item_key = ?",
            (list_name, item_key),
        )
        return rows[0][0] if rows else None

    async def set_graph_item_id(self, list_name: str, item_key: str, item_id: str) -> None:
        await self._run(
            self._execute,
            "INSERT INTO graph_items (list_name, item_key, item_id) VALUES (?, ?, ?) "
            "ON CONFLICT (list_name, item_key) DO UPDATE SET item_id = excluded.item_id",
            (list_name, item_key, item_id),
        )

    # Housekeeping

    async def ping(self) -> bool:
        try:
            return (await self._run(self._query, "SELECT 1", ()))[0][0] == 1
        except JournalError:
            log.warning("journal ping failed", exc_info=True)
            return False

    async def close(self) -> None:
        while self._committing:  # let the submissions already queued land first
            await asyncio.sleep(0.005)
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    def _query(self, sql: str, params: tuple) -> list[tuple]:
        return self._db.execute(sql, params).fetchall()

    def _execute(self, sql: str, params: tuple) -> int:
        return self._db.execute(sql, params).rowcount

    def _execute_many(self, sql: str, rows: list[tuple]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(sql, rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def report_fields(record: RecordedReport) -> dict:
    """Return a recorded report as flat, JSON-ready fields (for the outbox and the mirror)."""
    report = record.report
    fields = {
        "report_id": record.id,
        "submission_id": record.submission_id,
        "site_id": report.site_id,
        "received_at": record.received_at.isoformat(),
        "reporter_name": record.reporter.name,
        "reporter_aad": record.reporter.aad_object_id,
        "status": report.status.value,
        "evacuees": report.evacuees,
        "households": report.households,
        "care_needed": report.care_needed,
        "capacity": report.capacity,
        "needs": report.needs,
    }
    fields.update({f"lifeline_{k}": v.value for k, v in report.lifelines.items()})
    fields.update({f"supply_{k}": v.value for k, v in report.supplies.items()})
    return fields


def _record(row: tuple) -> RecordedReport:
    report = ShelterReport(
        site_id=row[2],
        status=ShelterStatus(row[7]),
        evacuees=row[8],
        households=row[9],
        care_needed=row[10],
        capacity=row[11],
        lifelines={k: Lifeline(v) for k, v in json.loads(row[12]).items()},
        supplies={k: SupplyLevel(v) for k, v in json.loads(row[13]).items()},
        needs=row[14],
    )
    return RecordedReport(
        id=row[0],
        submission_id=row[1],
        report=report,
        reporter=Reporter(user_id=row[4], aad_object_id=row[5], name=row[6]),
        received_at=datetime.fromisoformat(row[3]),
    )
