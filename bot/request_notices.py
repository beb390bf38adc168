"""Supply request notices: HQ hears of every new request, the requester of every move.

A new request is posted to every live HQ board as a card with HQ's buttons (approve,
dispatch, cancel), refreshing itself for the board's viewers. A move made by someone
else than the requester (HQ in Teams, or HQ editing the SharePoint list) is sent to the
requester in the conversation they asked from. Both go through the alerts queue, so
they are spaced and retried like critical-need alerts.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from bot.alerts import Alerts
from bot.cards.request import create_request_view_card
from bot.locales import strings, text
from bot.model import Reporter
from bot.proactive import conversation_key
from bot.publisher import BoardPublisher, board_zone
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
        """Created listener: show the request, with HQ's buttons, on every HQ board."""
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
        events = await self.journal.request_events(record.id)
        for board in boards:
            card = create_request_view_card(
                board.language,
                record,
                site,
                zone=board_zone(board),
                hq=True,
                events=events,
                refresh_users=board.viewers,
            )
            summary = text(
                board.language,
                "request_new_title",
                site=site.name(board.language) if site else record.request.site_id,
            )
            self.alerts.notify(f"request {record.id}", board, card, summary)

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

