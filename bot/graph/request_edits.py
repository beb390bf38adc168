"""HQ's edits of the Supply requests list, as moves of the requests they show.

Changing 対応状況 (State) in the list moves the request exactly as HQ's button in Teams
does (bot/supply_requests.py): the same lifecycle rules, the same event in the
request's history (source "lists"), the same notice to the requester. The editor counts
as HQ: who may edit the list is decided by the SharePoint site's permissions, so give
edit rights on it to HQ only. A change of 本部メモ (HqNote) travels with a state change;
on its own it is not read back.
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
    """Take edits of the Supply requests list into the journal as request moves."""

    def __init__(self, requests: SupplyRequests):
        self.requests = requests

    async def apply(self, edit: ListEdit) -> RecordedRequest | None:
        """Move the request to the state HQ chose in the list; return it, or None."""
        if "State" not in edit.changed:
            log.info(
                "Supply requests item %s: only the HQ note changed; notes are read back "
                "with a change of state", edit.item_id,
            )
            return None
        try:
            request_id = int(edit.item_key.removeprefix(KEY_PREFIX))
            code = SUPPLY_REQUESTS.column("State").from_graph(edit.changed["State"])
            target = RequestState(code)
        except ValueError:
            log.warning(
                "Supply requests item %s (%s) edited to an unknown state %r; ignored",
                edit.item_id, edit.item_key, edit.changed["State"],
            )
            return None

        note = ""
        if "HqNote" in edit.changed:
            note = SUPPLY_REQUESTS.column("HqNote").from_graph(edit.changed["HqNote"]) or ""
        moved = await self.requests.move(
            request_id,
            target,
            edit.editor,
            hq=True,
            event_key=f"graph-edit:{edit.item_id}:{edit.etag}",
            note=note,
            source="lists",
        )
        if moved.duplicate:
            return None  # the same edit read again (a poll repeated after a crash)
        if not moved.moved:
            # NOTE: the list keeps showing the refused state until the request moves again.
            log.warning(
                "Supply request %d: %s's change to %s in the list was refused: %s",
                request_id, edit.editor.user_id, target.value, moved.refused or "already done",
            )
            return None
        return moved.record
