"""The SQLite table of staff check-ins: appended, never overwritten, once per submission.

A mixin of SqliteJournal: it uses the journal's one connection and thread (`_run`,
`_query`, `_db`), and its schema is created with the rest. Each check-in also writes
the outbox row of its person's item in the Check-ins list, in the same transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bot.model import Reporter
from bot.staff import Availability, CheckIn, RecordedCheckIn, Safety, Whereabouts
from bot.store import AppendedCheckIn
from bot.store.stamps import db_stamp, graph_time

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkins (
    id INTEGER PRIMARY KEY,
    submission_id TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    reporter_id TEXT NOT NULL,
    reporter_aad TEXT NOT NULL,
    reporter_name TEXT NOT NULL,
    safety TEXT NOT NULL,
    whereabouts TEXT NOT NULL,
    availability TEXT NOT NULL,
    arrival TEXT NOT NULL,
    arrival_at TEXT,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkins_by_reporter ON checkins (reporter_id, id);
"""

CHECKIN_COLUMNS = (
    "id, submission_id, received_at, reporter_id, reporter_aad, reporter_name, "
    "safety, whereabouts, availability, arrival, arrival_at, note"
)


class CheckInTables:
    """Staff check-ins for SqliteJournal.

    Every board needs each person's latest check-in; once read they are kept in
    `_check_ins_kept` (by person, oldest first), each new check-in replacing its
    person's, so a board costs no scan of every check-in ever made.
    """

    _check_ins_kept: dict[str, RecordedCheckIn] | None

    async def append_check_in(
        self,
        submission_id: str,
        check_in: CheckIn,
        reporter: Reporter,
        received_at: datetime,
        arrival_at: datetime | None,
    ) -> AppendedCheckIn:
        appended = await self._submit(
            self._append_check_in, submission_id, check_in, reporter, received_at, arrival_at
        )
        kept = self._check_ins_kept
        if kept is not None and not appended.duplicate:
            person = appended.record.reporter.user_id
            current = kept.get(person)
            if current is None or current.id < appended.record.id:
                kept.pop(person, None)
                kept[person] = appended.record
        return appended

    def _append_check_in(self, submission_id, check_in, reporter, received_at, arrival_at):
        db = self._db
        existing = db.execute(
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE submission_id = ?",
            (submission_id,),
        ).fetchone()
        if existing:
            return AppendedCheckIn(_check_in(existing), duplicate=True)

        stamp = db_stamp(received_at)
        cursor = db.execute(
            f"INSERT INTO checkins ({CHECKIN_COLUMNS}) "
            "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                submission_id,
                stamp,
                reporter.user_id,
                reporter.aad_object_id,
                reporter.name,
                check_in.safety.value,
                check_in.whereabouts.value,
                check_in.availability.value,
                check_in.arrival,
                db_stamp(arrival_at) if arrival_at else None,
                check_in.note,
            ),
        )
        record = RecordedCheckIn(
            id=cursor.lastrowid,
            submission_id=submission_id,
            check_in=check_in,
            reporter=reporter,
            received_at=received_at.astimezone(timezone.utc),
        )
        # One item per person in the Check-ins list: their latest state.
        db.execute(
            "INSERT INTO outbox (list_name, item_key, fields, enqueued_at) VALUES (?, ?, ?, ?)",
            (
                "checkins",
                f"staff-{reporter.aad_object_id or reporter.user_id}",
                json.dumps(check_in_fields(record, arrival_at), ensure_ascii=False),
                stamp,
            ),
        )
        return AppendedCheckIn(record, duplicate=False)

    async def latest_check_ins(self) -> list[RecordedCheckIn]:
        if self._check_ins_kept is None:
            rows = await self._run(
                self._query,
                f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE id IN "
                "(SELECT MAX(id) FROM checkins GROUP BY reporter_id) ORDER BY id",
                (),
            )
            # As with reports: an append is either in these rows or updates them later.
            self._check_ins_kept = {row[3]: _check_in(row) for row in rows}
        return list(self._check_ins_kept.values())

    async def latest_check_in_of(self, user_id: str) -> RecordedCheckIn | None:
        rows = await self._run(
            self._query,
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE reporter_id = ? "
            "ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        return _check_in(rows[0]) if rows else None

    async def check_in(self, check_in_id: int) -> RecordedCheckIn | None:
        rows = await self._run(
            self._query, f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE id = ?", (check_in_id,)
        )
        return _check_in(rows[0]) if rows else None

    async def check_in_before(self, user_id: str, check_in_id: int) -> RecordedCheckIn | None:
        rows = await self._run(
            self._query,
            f"SELECT {CHECKIN_COLUMNS} FROM checkins WHERE reporter_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT 1",
            (user_id, check_in_id),
        )
        return _check_in(rows[0]) if rows else None

    async def check_in_count(self) -> int:
        rows = await self._run(self._query, "SELECT COUNT(*) FROM checkins", ())
        return rows[0][0]


def check_in_fields(record: RecordedCheckIn, arrival_at: datetime | None) -> dict:
    """Return a check-in as the Check-ins list's columns (graph/lists.py CHECKINS)."""
    check_in = record.check_in
    return {
        "Title": record.reporter.name or record.reporter.user_id,
        "StaffId": record.reporter.aad_object_id or record.reporter.user_id,
        "StaffName": record.reporter.name,
        "Safe": check_in.safety is Safety.SAFE,
        "Safety": check_in.safety.value,
        "Location": check_in.whereabouts.value,
        "Available": check_in.availability is not Availability.UNAVAILABLE,
        "ExpectedArrival": graph_time(arrival_at) if arrival_at else None,
        "Note": check_in.note,
        "CheckedInAt": graph_time(record.received_at),
    }


def _check_in(row: tuple) -> RecordedCheckIn:
    return RecordedCheckIn(
        id=row[0],
        submission_id=row[1],
        check_in=CheckIn(
            safety=Safety(row[6]),
            whereabouts=Whereabouts(row[7]),
            availability=Availability(row[8]),
            arrival=row[9],
            note=row[11],
        ),
        reporter=Reporter(user_id=row[3], aad_object_id=row[4], name=row[5]),
        received_at=datetime.fromisoformat(row[2]),
    )
