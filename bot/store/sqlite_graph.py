"""The SQLite tables of the two-way Graph mirror: what was written, delta cursors, HQ edits.

A mixin of SqliteJournal, like sqlite_conversations.py: it uses the journal's one
connection and thread. The outbox and the item id map stay with the journal's own
tables in sqlite.py, since every journal write adds outbox rows in its transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.model import Reporter, ShelterReport
from bot.store import Appended, Correction, GraphWrite, ParkedRow
from bot.store.stamps import db_stamp

SCHEMA = """
CREATE TABLE IF NOT EXISTS graph_writes (
    list_name TEXT NOT NULL,
    item_key TEXT NOT NULL,
    fields TEXT NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (list_name, item_key)
);

CREATE TABLE IF NOT EXISTS graph_cursors (
    name TEXT PRIMARY KEY,
    link TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    report_id INTEGER,
    site_id TEXT NOT NULL,
    editor_id TEXT NOT NULL,
    editor_name TEXT NOT NULL,
    edited_at TEXT NOT NULL,
    changes TEXT NOT NULL,
    UNIQUE (site_id, editor_id, edited_at)
);
"""


class GraphTables:
    """The outbox and mirror bookkeeping methods of the Journal protocol."""

    async def outbox_parked(self) -> list[ParkedRow]:
        rows = await self._run(
            self._query,
            "SELECT id, list_name, item_key, attempts, COALESCE(last_error, ''), enqueued_at "
            "FROM outbox WHERE parked = 1 ORDER BY id",
            (),
        )
        return [
            ParkedRow(row[0], row[1], row[2], row[3], row[4], datetime.fromisoformat(row[5]))
            for row in rows
        ]

    async def graph_item_key(self, list_name: str, item_id: str) -> str | None:
        rows = await self._run(
            self._query,
            "SELECT item_key FROM graph_items WHERE list_name = ? AND item_id = ?",
            (list_name, item_id),
        )
        return rows[0][0] if rows else None

    async def graph_write(self, list_name: str, item_key: str) -> GraphWrite | None:
        rows = await self._run(
            self._query,
            "SELECT fields, etag FROM graph_writes WHERE list_name = ? AND item_key = ?",
            (list_name, item_key),
        )
        return GraphWrite(json.loads(rows[0][0]), rows[0][1]) if rows else None

    async def save_graph_write(self, list_name: str, item_key: str, write: GraphWrite) -> None:
        await self._run(
            self._execute,
            "INSERT INTO graph_writes (list_name, item_key, fields, etag) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (list_name, item_key) DO UPDATE SET "
            "fields = excluded.fields, etag = excluded.etag",
            (list_name, item_key, json.dumps(write.fields, ensure_ascii=False), write.etag),
        )

    async def enqueue_board_row(
        self, site_id: str, report_id: int, fields: dict, enqueued_at: datetime
    ) -> bool:
        stamp = db_stamp(enqueued_at)
        return await self._run(self._enqueue_board_row, site_id, report_id, fields, stamp)

    def _enqueue_board_row(self, site_id: str, report_id: int, fields: dict, stamp: str) -> bool:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            (latest,) = db.execute(
                "SELECT MAX(id) FROM reports WHERE site_id = ?", (site_id,)
            ).fetchone()
            if latest == report_id:
                db.execute(
                    "INSERT INTO outbox (list_name, item_key, fields, enqueued_at) "
                    "VALUES ('sites', ?, ?, ?)",
                    (site_id, json.dumps(fields, ensure_ascii=False), stamp),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return latest == report_id

    async def graph_cursor(self, name: str) -> str | None:
        rows = await self._run(
            self._query, "SELECT link FROM graph_cursors WHERE name = ?", (name,)
        )
        return rows[0][0] if rows else None

    async def set_graph_cursor(self, name: str, link: str | None) -> None:
        if link is None:
            await self._run(self._execute, "DELETE FROM graph_cursors WHERE name = ?", (name,))
            return
        await self._run(
            self._execute,
            "INSERT INTO graph_cursors (name, link) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET link = excluded.link",
            (name, link),
        )

    async def append_correction(
        self, submission_id: str, report: ShelterReport | None, correction: Correction
    ) -> Appended | None:
        appended = None
        if report is not None:
            appended = await self.append_report(
                submission_id, report, correction.editor, correction.edited_at
            )
        # A crash between the two writes is repaired when the same edit is applied again:
        # the report is found by its submission id, the correction by its editor and time.
        report_id = appended.record.id if appended else None
        await self._run(self._insert_correction, report_id, correction)
        return appended

    def _insert_correction(self, report_id: int | None, correction: Correction) -> None:
        self._db.execute(
            "INSERT INTO corrections (report_id, site_id, editor_id, editor_name, edited_at, "
            "changes) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                report_id,
                correction.site_id,
                correction.editor.aad_object_id or correction.editor.user_id,
                correction.editor.name,
                db_stamp(correction.edited_at),
                json.dumps(correction.changes, ensure_ascii=False),
            ),
        )

    async def corrections(self, site_id: str) -> list[Correction]:
        rows = await self._run(
            self._query,
            "SELECT report_id, site_id, editor_id, editor_name, edited_at, changes "
            "FROM corrections WHERE site_id = ? ORDER BY id",
            (site_id,),
        )
        return [
            Correction(
                site_id=row[1],
                editor=Reporter(user_id=row[2], aad_object_id=row[2], name=row[3]),
                edited_at=datetime.fromisoformat(row[4]),
                changes=json.loads(row[5]),
                report_id=row[0],
            )
            for row in rows
        ]
