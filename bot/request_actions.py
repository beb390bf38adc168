"""The supply request card actions of the Teams handler (a mixin of bot.handler.BcpBot).

Verbs: `request` (the form), `request_save`, `request_view`, `request_move` (a lifecycle
button) and `request_list` (HQ's list of open requests). Who may move a request is
decided by bot/supplies.py on the server, whatever buttons a card shows.
"""

from __future__ import annotations

import uuid

from bot.cards.request import (
    create_request_card,
    create_request_list_card,
    create_request_view_card,
)
from bot.locales import strings, text
from bot.supplies import RequestState
from bot.supply_requests import Requested
from bot.turn import Turn


class RequestActions:
    """Answer the supply request verbs; BcpBot provides the journal, registry and roles."""

    async def handle_request(self, turn: Turn, data: dict) -> dict:
        return await self.create_request_form(turn)

    async def handle_request_save(self, turn: Turn, data: dict) -> dict:
        submission_id = str(data.get("submission_id") or "")[:100] or str(uuid.uuid4())
        outcome = await self.requests.submit(submission_id, data, turn.reporter)

        if isinstance(outcome, Requested):
            turn.context.turn_state["outcome"] = "duplicate" if outcome.duplicate else "recorded"
            await self._remember_reporter(turn)
            return await self.create_request_view(
                turn, outcome.record.id, notice=text(turn.lang, "request_sent")
            )

        turn.context.turn_state["outcome"] = "rejected " + ",".join(outcome.errors)
        values = {key: str(value) for key, value in data.items() if key not in ("lang",)}
        return await self.create_request_form(
            turn, submission_id, values=values, errors=outcome.errors
        )

    async def handle_request_view(self, turn: Turn, data: dict) -> dict:
        return await self.create_request_view(turn, _request_id(data))

    async def handle_request_move(self, turn: Turn, data: dict) -> dict:
        request_id = _request_id(data)
        try:
            target = RequestState(str(data.get("state") or ""))
        except ValueError:
            target = None
        if request_id is None or target is None:
            turn.context.turn_state["outcome"] = "bad move"
            return await self.create_request_view(turn, request_id)

        action_id = str(data.get("action_id") or "")[:100] or str(uuid.uuid4())
        moved = await self.requests.move(
            request_id,
            target,
            turn.reporter,
            hq=self.roles.is_hq(turn.reporter),
            event_key=f"teams-{action_id}-{target.value}",
            note=str(data.get("hq_note") or "").strip(),
        )
        words = strings(turn.lang)
        if moved.record is None:
            turn.context.turn_state["outcome"] = "not found"
            return await self.create_request_view(turn, None)
        state = words[f"request_state_{moved.record.state.value}"]
        if moved.refused:
            turn.context.turn_state["outcome"] = f"refused {moved.refused}"
            notice = text(turn.lang, moved.refused, state=state)
            return await self.create_request_view(
                turn, request_id, notice=notice, notice_style="warning"
            )
        turn.context.turn_state["outcome"] = "moved" if moved.moved else "duplicate"
        return await self.create_request_view(
            turn, request_id, notice=text(turn.lang, "request_moved", state=state)
        )

    async def handle_request_list(self, turn: Turn, data: dict) -> dict:
        records = await self.requests.open()
        return create_request_list_card(
            turn.lang, records, self.registry.sites, zone=turn.zone
        )

    # Card builders that need the journal

    async def create_request_form(
        self,
        turn: Turn,
        submission_id: str | None = None,
        *,
        query: str = "",
        values: dict | None = None,
        errors: dict | None = None,
    ) -> dict:
        """Render the request form, for the site named in `query` or the user's last one."""
        if values is None:
            matches = self.registry.search(query) if query else []
            site_id = matches[0].id if matches else await self.journal.last_site_of(
                turn.reporter.user_id
            )
            values = {"site_id": site_id or ""}
        return create_request_card(
            turn.lang,
            self.registry.shelters() or list(self.registry),
            submission_id or str(uuid.uuid4()),
            values=values,
            errors=errors,
        )

    async def create_request_view(
        self,
        turn: Turn,
        request_id: int | None,
        *,
        notice: str = "",
        notice_style: str = "good",
    ) -> dict:
        record = await self.journal.supply_request(request_id) if request_id else None
        if record is None:
            turn.context.turn_state["outcome"] = "not found"
            return create_request_view_card(turn.lang, None, None, zone=turn.zone, hq=False)
        return create_request_view_card(
            turn.lang,
            record,
            self.registry.get(record.request.site_id),
            zone=turn.zone,
            hq=self.roles.is_hq(turn.reporter),
            events=await self.journal.request_events(record.id),
            notice=notice,
            notice_style=notice_style,
        )


def _request_id(data: dict) -> int | None:
    raw = str(data.get("request_id") or "")
    return int(raw) if raw.isdigit() else None
