"""HQ's edits of the Supply requests list, as moves of the requests they show, or notes.

Changing 対応状況 (State) in the list moves the request exactly as HQ's button in Teams
does (bot/supply_requests.py): the same lifecycle rules, the same event in the
request's history (source "lists"), the same notice to the requester. A change of
本部メモ (HqNote) travels with it; changed on its own, it is HQ's note on the request,
an event in its history at the time of the edit, and the requester hears of it too.
The editor counts as HQ: who may edit the list is decided by the SharePoint site's
permissions, so give edit rights on it to HQ only.

An edit the journal refuses (a move the lifecycle forbids, an edit of a closed request,
a state that is not one of the list's choices) is logged at WARNING and the item is
queued with the journal's state again, so the list never keeps showing it.
"""

from __future__ import annotations

import logging

from bot.graph.delta import ListEdit
from bot.graph.lists import SUPPLY_REQUESTS
from bot.supplies import RecordedRequest, RequestState
from bot.supply_requests import SupplyRequests

log = logging.getLogger(__name__)

KEY_PREFIX = "request-"


class RequestEdits:
    """Take edits of the Supply requests list into the journal as request moves or notes."""

    def __init__(self, requests: SupplyRequests):
        self.requests = requests

    async def apply(self, edit: ListEdit) -> RecordedRequest | None:
        """Record HQ's change of state, or of the note alone; return the request, or None."""
        try:
            request_id = int(edit.item_key.removeprefix(KEY_PREFIX))
        except ValueError:
            log.warning(
                "Supply requests item %s has the key %r, which names no request; ignored",
                edit.item_id, edit.item_key,
            )
            return None
        note = None
        if "HqNote" in edit.changed:
            note = SUPPLY_REQUESTS.column("HqNote").from_graph(edit.changed["HqNote"]) or ""
        event_key = f"graph-edit:{edit.item_id}:{edit.etag}"

        if "State" in edit.changed:
            code = SUPPLY_REQUESTS.column("State").from_graph(edit.changed["State"])
            try:
                target = RequestState(code)
            except ValueError:
                await self._refused(edit, request_id, f"state {code!r}", "unknown state")
                return None
            moved = await self.requests.move(
                request_id, target, edit.editor,
                hq=True, event_key=event_key, note=note or "", source="lists",
            )
            if moved.duplicate:
                return None  # the same edit read again (a poll repeated after a crash)
            if moved.moved:
                return moved.record
            if moved.refused != "request_already":
                await self._refused(edit, request_id, target.value, moved.refused)
                return None
            if note is None:
                return None  # the list shows the state the request already has
            # The state in the list is already the request's: what is new is the note.

        noted = await self.requests.annotate(
            request_id, note or "", edit.editor,
            hq=True, event_key=event_key, written_at=edit.edited_at, source="lists",
        )
        if noted.duplicate or noted.refused == "request_superseded":
            # Superseded: a move made in Teams since the edit set its own note; the list
            # gets that one back from the move's pending write.
            return None
        if noted.refused:
            await self._refused(edit, request_id, "note", noted.refused)
            return None
        return noted.record

    async def _refused(self, edit: ListEdit, request_id: int, change: str, reason: str) -> None:
        """Log a refused edit and put the journal's state back in the list."""
        restored = await self.requests.restore(request_id)
        log.warning(
            "Supply request %d: the edit in the list by %s (%s) was refused: %s; %s",
            request_id, edit.editor.user_id, change, reason,
            "the item is put back to the journal's state" if restored
            else "the journal has no such request",
        )
