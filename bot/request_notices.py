"""Supply request notices: HQ hears of every new request, the requester of every move.

A new request is an alert to every live HQ board (bot/alerts.py). After a quiet spell it
is posted at once as a card with HQ's buttons (approve, dispatch, cancel), refreshing
itself for the board's viewers. During a burst it joins the alert post already waiting
for that conversation: a line naming the site, priority and first item, with a button
that opens the request with HQ's buttons, or, past the card's limit, a count.

A move made by someone else than the requester (HQ in Teams, or HQ editing the
SharePoint list) is sent to the requester in the conversation they asked from, one post
per move, spaced and retried like alerts.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from bot.alerts import Alerts
from bot.cards.alert import RequestAlert
from bot.cards.request import create_request_view_card
from bot.locales import strings, text
from bot.model import Reporter
from bot.proactive import conversation_key
from bot.publisher import BoardPublisher
from bot.sites import Registry
from bot.store import Journal
from bot.supplies import RecordedRequest

log = logging.getLogger(__name__)


class RequestNotices:
    """Post new requests to HQ boards and moves to their requesters."""

    def __init__(
        self,
        journal: Journal,
        registry: Registry,
        publisher: BoardPublisher,
        alerts: Alerts,
        zone: ZoneInfo,
    ):
        self.journal = journal
        self.registry = registry
        self.publisher = publisher
        self.alerts = alerts
        self.zone = zone

    async def on_created(self, record: RecordedRequest) -> None:
        """Created listener: alert every HQ board, which shows the request with HQ's buttons."""
        site = self.registry.get(record.request.site_id)
        boards = self.publisher.live_boards()
        if not boards:
            log.warning(
                "supply request %d from site %s but no HQ board is registered to hear it; "
                "type 'board here' in an HQ channel",
                record.id,
                record.request.site_id,
            )
            return
        alert = RequestAlert(record, site, tuple(await self.journal.request_events(record.id)))
        for board in boards:
            self.alerts.alert(f"request {record.id}", board, alert)

    async def on_moved(self, record: RecordedRequest, actor: Reporter) -> None:
        """Moved listener: tell the requester what someone else did with their request.

        A note HQ added without moving the request is told as a note.
        """
        if actor.user_id == record.requester.user_id:
            return
        contact = await self.journal.contact_of(record.requester.user_id)
        if contact is None or contact.blocked:
            log.warning(
                "supply request %d moved to %s, but its requester %s cannot be reached (%s)",
                record.id,
                record.state.value,
                record.requester.user_id,
                contact.blocked if contact else "no conversation known",
            )
            return
        lang = contact.language
        state = strings(lang)[f"request_state_{record.state.value}"]
        events = await self.journal.request_events(record.id)
        # A note from HQ with no move (written in the list) is an event in the same state.
        noted = len(events) > 1 and events[-1].state is events[-2].state
        key = "request_note_title" if noted else "request_update_title"
        summary = text(lang, key, id=record.id, state=state)
        card = create_request_view_card(
            lang,
            record,
            self.registry.get(record.request.site_id),
            zone=self.zone,
            hq=False,
            events=events,
            notice=summary,
        )
        conversation_id = conversation_key(contact.reference.get("conversation", {}).get("id", ""))
        self.alerts.send(f"request {record.id}", conversation_id, contact.reference, card, summary)

