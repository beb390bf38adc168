"""The staff check-in card actions of the Teams handler (a mixin of bot.handler.BcpBot).

Verbs: `checkin` (the form), `checkin_save`, and `checkin_view` (one check-in, opened
from a help alert; HQ only, since it names a person and where they are).
"""

from __future__ import annotations

import uuid

from bot.cards.checkin import (
    create_checkin_card,
    create_checkin_saved_card,
    create_checkin_view_card,
)
from bot.checkins import CheckedIn
from bot.turn import Turn


class CheckInActions:
    """Answer the check-in verbs; BcpBot provides the journal, check-ins and roles."""

    async def handle_checkin(self, turn: Turn, data: dict) -> dict:
        return await self.create_checkin_form(turn)

    async def handle_checkin_save(self, turn: Turn, data: dict) -> dict:
        submission_id = str(data.get("submission_id") or "")[:100] or str(uuid.uuid4())
        outcome = await self.checkins.submit(submission_id, data, turn.reporter, turn.zone)

        if isinstance(outcome, CheckedIn):
            turn.context.turn_state["outcome"] = "duplicate" if outcome.duplicate else "recorded"
            return create_checkin_saved_card(turn.lang, outcome.record, zone=turn.zone)

        turn.context.turn_state["outcome"] = "rejected " + ",".join(outcome.errors)
        values = {key: str(value) for key, value in data.items() if key not in ("lang",)}
        return await self.create_checkin_form(
            turn, submission_id, values=values, errors=outcome.errors
        )

    async def handle_checkin_view(self, turn: Turn, data: dict) -> dict:
        """Show one check-in, from a help alert's button (HQ only: it names a person)."""
        if not self.roles.is_hq(turn.reporter):
            turn.context.turn_state["outcome"] = "refused"
            return create_checkin_view_card(turn.lang, None, zone=turn.zone)
        record = None
        if str(data.get("checkin_id") or "").isdigit():
            record = await self.journal.check_in(int(data["checkin_id"]))
        if record is None:
            turn.context.turn_state["outcome"] = "not found"
            return create_checkin_view_card(turn.lang, None, zone=turn.zone)
        newer = await self.journal.latest_check_in_of(record.reporter.user_id)
        return create_checkin_view_card(turn.lang, record, zone=turn.zone, newer=newer)

    # Card builders that need the journal

    async def create_checkin_form(
        self,
        turn: Turn,
        submission_id: str | None = None,
        *,
        values: dict | None = None,
        errors: dict | None = None,
    ) -> dict:
        """Render the check-in form, filled from the person's last check-in."""
        last = await self.journal.latest_check_in_of(turn.reporter.user_id)
        if values is None and last is not None:
            values = last.check_in.to_fields()
        return create_checkin_card(
            turn.lang,
            submission_id or str(uuid.uuid4()),
            values=values,
            errors=errors,
            last=last,
            zone=turn.zone,
            now=self.reports.clock(),
        )
