"""The SQLite tables for speaking first: live boards, reporters' conversations, reminders.

A mixin of SqliteJournal: it uses the journal's one connection and thread (`_run`,
`_query`, `_execute`), and its schema is created with the rest.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.store import BoardRegistration, Contact
from bot.store.stamps import db_stamp

SCHEMA = """
CREATE TABLE IF NOT EXISTS boards (
    conversation_id TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    activity_id TEXT,
    language TEXT NOT NULL,
    zone TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    viewers TEXT NOT NULL DEFAULT '[]',
    stopped TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS contacts (
    user_id TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    personal INTEGER NOT NULL,
    language TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    blocked TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS reminders (
    site_id TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
);
"""

BOARD_COLUMNS = (
    "conversation_id, reference, activity_id, language, zone, registered_by, registered_at, "
    "viewers, stopped"
)
CONTACT_COLUMNS = "user_id, reference, personal, language, updated_at, blocked"


class ConversationTables:
    """Boards, contacts and reminders for SqliteJournal."""

    async def boards(self) -> list[BoardRegistration]:
        rows = await self._run(
            self._query, f"SELECT {BOARD_COLUMNS} FROM boards ORDER BY registered_at", ()
        )
        return [_board(row) for row in rows]

    async def save_board(self, board: BoardRegistration) -> None:
        await self._run(
            self._execute,
            f"INSERT OR REPLACE INTO boards ({BOARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                board.conversation_id,
                json.dumps(board.reference, ensure_ascii=False),
                board.activity_id,
                board.language,
                board.zone,
                board.registered_by,
                db_stamp(board.registered_at),
                json.dumps(list(board.viewers)),
                board.stopped,
            ),
        )

    async def remove_board(self, conversation_id: str) -> bool:
        removed = await self._run(
            self._execute, "DELETE FROM boards WHERE conversation_id = ?", (conversation_id,)
        )
        return removed > 0

    async def save_contact(self, contact: Contact) -> None:
        # A personal chat replaces anything; a group chat or channel only replaces another.
        await self._run(
            self._execute,
            f"INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, '') "
            "ON CONFLICT (user_id) DO UPDATE SET reference = excluded.reference, "
            "personal = excluded.personal, language = excluded.language, "
            "updated_at = excluded.updated_at, blocked = '' "
            "WHERE excluded.personal >= contacts.personal",
            (
                contact.user_id,
                json.dumps(contact.reference, ensure_ascii=False),
                int(contact.personal),
                contact.language,
                db_stamp(contact.updated_at),
            ),
        )

    async def contact_of(self, user_id: str) -> Contact | None:
        rows = await self._run(
            self._query, f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE user_id = ?", (user_id,)
        )
        if not rows:
            return None
        user_id, reference, personal, language, updated_at, blocked = rows[0]
        return Contact(
            user_id=user_id,
            reference=json.loads(reference),
            personal=bool(personal),
            language=language,
            updated_at=datetime.fromisoformat(updated_at),
            blocked=blocked,
        )

    async def block_contact(self, user_id: str, reason: str) -> None:
        await self._run(
            self._execute,
            "UPDATE contacts SET blocked = ? WHERE user_id = ?",
            (reason[:200] or "blocked", user_id),
        )

    async def reminders_sent(self) -> dict[str, datetime]:
        rows = await self._run(self._query, "SELECT site_id, sent_at FROM reminders", ())
        return {site_id: datetime.fromisoformat(sent_at) for site_id, sent_at in rows}

    async def record_reminder(self, site_id: str, sent_at: datetime) -> None:
        await self._run(
            self._execute,
            "INSERT INTO reminders (site_id, sent_at) VALUES (?, ?) "
            "ON CONFLICT (site_id) DO UPDATE SET sent_at = excluded.sent_at",
            (site_id, db_stamp(sent_at)),
        )


def _board(row: tuple) -> BoardRegistration:
    return BoardRegistration(
        conversation_id=row[0],
        reference=json.loads(row[1]),
        activity_id=row[2],
        language=row[3],
        zone=row[4],
        registered_by=row[5],
        registered_at=datetime.fromisoformat(row[6]),
        viewers=tuple(json.loads(row[7])),
        stopped=row[8],
    )
