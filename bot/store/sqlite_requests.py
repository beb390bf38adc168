"""The SQLite tables of supply requests: the requests, and every move as an event.

A mixin of SqliteJournal: it uses the journal's one connection and thread (`_run`,
`_query`, `_db`), and its schema is created with the rest. A request's `state` column
is its latest event, kept in the same transaction; events are never changed. Each
write also writes the outbox row of the request's item in the Supply requests list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from bot.model import Reporter
from bot.store import AppendedRequest, MovedRequest
from bot.store.stamps import db_stamp, graph_time
from bot.supplies import (
    Priority,
    RecordedRequest,
    RequestEvent,
    RequestState,
    SupplyRequest,
    check_move,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS supply_requests (
    id INTEGER PRIMARY KEY,
    submission_id TEXT NOT NULL UNIQUE,
    site_id TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    requester_aad TEXT NOT NULL,
    requester_name TEXT NOT NULL,
    items TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS supply_requests_by_state ON supply_requests (state, id);

CREATE TABLE IF NOT EXISTS request_events (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES supply_requests (id),
    event_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    at TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_aad TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    note TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_events_by_request ON request_events (request_id, id);
"""

REQUEST_COLUMNS = (
    "id, submission_id, site_id, requested_at, requester_id, requester_aad, requester_name, "
    "items, priority, state, updated_at, updated_by, note"
)
EVENT_COLUMNS = "request_id, state, at, actor_id, actor_aad, actor_name, note, source"


class RequestTables:
    """Supply requests and their events for SqliteJournal.

    Every board needs the open requests; once read they are kept in `_open_kept` (by
    id), and every append, move and note brings them up to date.
    """

    _open_kept: dict[int, RecordedRequest] | None

    def _keep_open(self, record: RecordedRequest | None) -> None:
        kept = self._open_kept
        if kept is None or record is None:
            return
        if record.open:
            kept[record.id] = record
        else:
            kept.pop(record.id, None)

    async def append_request(
        self, submission_id: str, request: SupplyRequest, requester: Reporter, at: datetime
    ) -> AppendedRequest:
        appended = await self._submit(
            self._append_request, submission_id, request, requester, at
        )
        if not appended.duplicate:
            self._keep_open(appended.record)
        return appended

    def _append_request(self, submission_id, request, requester, at) -> AppendedRequest:
        db = self._db
        existing = db.execute(
            f"SELECT {REQUEST_COLUMNS} FROM supply_requests WHERE submission_id = ?",
            (submission_id,),
        ).fetchone()
        if existing:
            return AppendedRequest(_request(existing), duplicate=True)

        stamp = db_stamp(at)
        cursor = db.execute(
            f"INSERT INTO supply_requests ({REQUEST_COLUMNS}) "
            "VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
            (
                submission_id,
                request.site_id,
                stamp,
                requester.user_id,
                requester.aad_object_id,
                requester.name,
                request.items,
                request.priority.value,
                RequestState.REQUESTED.value,
                stamp,
                requester.name,
            ),
        )
        request_id = cursor.lastrowid
        _insert_event(
            db, request_id, f"created-{submission_id}", RequestState.REQUESTED,
            requester, stamp, "", "teams",
        )
        record = _saved(db, request_id, stamp)
        return AppendedRequest(record, duplicate=False)

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
        moved = await self._run(
            self._move_request, request_id, target, actor, at, hq, event_key, note, source
        )
        self._keep_open(moved.record)
        return moved

    def _move_request(self, request_id, target, actor, at, hq, event_key, note, source):
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            _, answer = _before_change(
                db, request_id, event_key, lambda current: check_move(current.state, target, hq)
            )
            if answer is not None:
                db.execute("COMMIT")
                return answer

            stamp = db_stamp(at)
            _insert_event(db, request_id, event_key, target, actor, stamp, note, source)
            db.execute(
                "UPDATE supply_requests SET state = ?, updated_at = ?, updated_by = ?, note = ? "
                "WHERE id = ?",
                (target.value, stamp, actor.name, note, request_id),
            )
            record = _saved(db, request_id, stamp)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return MovedRequest(record)

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
        noted = await self._run(
            self._note_request, request_id, note, actor, at, hq, event_key, source
        )
        self._keep_open(noted.record)
        return noted

    def _note_request(self, request_id, note, actor, at, hq, event_key, source):
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            current, answer = _before_change(
                db, request_id, event_key, lambda current: check_note(current, hq)
            )
            if answer is not None:
                db.execute("COMMIT")
                return answer

            # The note joins the history at the time it was written; it becomes the
            # request's note unless a move made since has set another (newest wins).
            stamp = db_stamp(at)
            _insert_event(db, request_id, event_key, current.state, actor, stamp, note, source)
            superseded = at < current.updated_at
            if not superseded:
                db.execute(
                    "UPDATE supply_requests SET updated_at = ?, updated_by = ?, note = ? "
                    "WHERE id = ?",
                    (stamp, actor.name, note, request_id),
                )
            record = _saved(db, request_id, stamp)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return MovedRequest(record, refused="request_superseded" if superseded else "")

    async def requeue_request(self, request_id: int, at: datetime) -> RecordedRequest | None:
        return await self._run(self._requeue_request, request_id, at)

    def _requeue_request(self, request_id: int, at: datetime) -> RecordedRequest | None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            found = db.execute(
                "SELECT 1 FROM supply_requests WHERE id = ?", (request_id,)
            ).fetchone()
            record = _saved(db, request_id, db_stamp(at)) if found else None
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return record

    async def supply_request(self, request_id: int) -> RecordedRequest | None:
        rows = await self._run(
            self._query,
            f"SELECT {REQUEST_COLUMNS} FROM supply_requests WHERE id = ?",
            (request_id,),
        )
        return _request(rows[0]) if rows else None

    async def open_requests(self) -> list[RecordedRequest]:
        if self._open_kept is None:
            rows = await self._run(
                self._query,
                f"SELECT {REQUEST_COLUMNS} FROM supply_requests "
                "WHERE state IN ('requested', 'approved', 'dispatched') ORDER BY id",
                (),
            )
            # As with reports: a change is either in these rows or updates them later.
            self._open_kept = {row[0]: _request(row) for row in rows}
        return sorted(self._open_kept.values(), key=lambda record: record.id)

    async def request_events(self, request_id: int) -> list[RequestEvent]:
        rows = await self._run(
            self._query,
            f"SELECT {EVENT_COLUMNS} FROM request_events WHERE request_id = ? ORDER BY at, id",
            (request_id,),
        )
        return [
            RequestEvent(
                request_id=row[0],
                state=RequestState(row[1]),
                at=datetime.fromisoformat(row[2]),
                actor=Reporter(user_id=row[3], aad_object_id=row[4], name=row[5]),
                note=row[6],
                source=row[7],
            )
            for row in rows
        ]


def request_fields(record: RecordedRequest) -> dict:
    """Return a request as the Supply requests list's columns (graph/lists.py)."""
    return {
        "Title": record.request.items.splitlines()[0][:100] if record.request.items else "",
        "SiteId": record.request.site_id,
        "Items": record.request.items,
        "Priority": record.request.priority.value,
        "State": record.state.value,
        "RequestedAt": graph_time(record.requested_at),
        "Requester": record.requester.name,
        "UpdatedAt": graph_time(record.updated_at),
        "UpdatedBy": record.updated_by,
        "HqNote": record.note,
    }


def _before_change(
    db, request_id: int, event_key: str, refusal: Callable[[RecordedRequest], str | None]
) -> tuple[RecordedRequest | None, MovedRequest | None]:
    """Read the request a change is for; return it, and the answer if the change is not made.

    Not made: there is no such request, the change's event key is already recorded, or
    `refusal` of the request says why not.
    """
    row = db.execute(
        f"SELECT {REQUEST_COLUMNS} FROM supply_requests WHERE id = ?", (request_id,)
    ).fetchone()
    if row is None:
        return None, MovedRequest(None, refused="request_not_found")
    current = _request(row)
    if db.execute("SELECT 1 FROM request_events WHERE event_key = ?", (event_key,)).fetchone():
        return current, MovedRequest(current, duplicate=True)
    refused = refusal(current)
    return current, (MovedRequest(current, refused=refused) if refused else None)


def check_note(current: RecordedRequest, hq: bool) -> str | None:
    """Return None when a person may add a note to `current`, else why not (a locale key).

    Only HQ writes notes, and only while the request is open, as in Teams, where the
    note travels with HQ's buttons and a closed request has none.
    """
    if not hq:
        return "request_hq_only"
    if not current.open:
        return "request_move_invalid"
    return None


def _insert_event(db, request_id, event_key, state, actor, stamp, note, source) -> None:
    db.execute(
        f"INSERT INTO request_events (event_key, {EVENT_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event_key,
            request_id,
            state.value,
            stamp,
            actor.user_id,
            actor.aad_object_id,
            actor.name,
            note,
            source,
        ),
    )


def _saved(db, request_id: int, stamp: str) -> RecordedRequest:
    """Read a request back as just written, and queue its list item for the mirror."""
    record = _request(
        db.execute(
            f"SELECT {REQUEST_COLUMNS} FROM supply_requests WHERE id = ?", (request_id,)
        ).fetchone()
    )
    db.execute(
        "INSERT INTO outbox (list_name, item_key, fields, enqueued_at) VALUES (?, ?, ?, ?)",
        (
            "supply_requests",
            f"request-{record.id}",
            json.dumps(request_fields(record), ensure_ascii=False),
            stamp,
        ),
    )
    return record


def _request(row: tuple) -> RecordedRequest:
    return RecordedRequest(
        id=row[0],
        submission_id=row[1],
        request=SupplyRequest(site_id=row[2], items=row[7], priority=Priority(row[8])),
        requester=Reporter(user_id=row[4], aad_object_id=row[5], name=row[6]),
        requested_at=datetime.fromisoformat(row[3]),
        state=RequestState(row[9]),
        updated_at=datetime.fromisoformat(row[10]),
        updated_by=row[11],
        note=row[12],
    )
