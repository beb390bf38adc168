"""The Teams activity handler: commands, card actions (Action.Execute) and installs.

Each card verb has one handler method named after it (`report_save` ->
`handle_report_save`), which calls a use case and answers with a card. Nothing a
user waits on here talks to Graph or to another conversation. Roles are checked here,
on the server, for every action that needs one, whatever a card shows. The check-in
and supply request verbs live in bot/checkin_actions.py and bot/request_actions.py.
"""

from __future__ import annotations

import logging
import time
import uuid

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.adapter import card_response
from bot.cards import create_help_card, create_welcome_card
from bot.cards.board import create_board_card
from bot.cards.report import (
    create_report_card,
    create_report_pick_card,
    create_report_saved_card,
    create_report_view_card,
)
from bot.checkins import CheckIns
from bot.commands import language_named, parse_command
from bot.locales import LANGUAGES, language_of_locale, text
from bot.model import Site
from bot.proactive import conversation_key, reference_of
from bot.publisher import BoardPublisher
from bot.reminders import StaleReminders
from bot.reports import Accepted, Reports
from bot.checkin_actions import CheckInActions
from bot.request_actions import RequestActions
from bot.roles import Roles
from bot.settings import Settings
from bot.store import Journal
from bot.supply_requests import SupplyRequests
from bot.turn import (
    Turn,
    clean,
    conversation_of,
    read_turn,
    send_card,
    verb_of,
)

log = logging.getLogger(__name__)

ERROR_CONTENT_TYPE = "application/vnd.microsoft.error"


class BcpBot(CheckInActions, RequestActions, ActivityHandler):
    """Answer Teams activities for BCP Board."""

    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        reports: Reports,
        *,
        checkins: CheckIns,
        requests: SupplyRequests,
        roles: Roles | None = None,
        publisher: BoardPublisher | None = None,
        reminders: StaleReminders | None = None,
    ):
        """Args:
        publisher: keeps live boards; without it "board here" fails with an apology.
        reminders: remembers how to reach reporters; without it nobody is reminded.
        """
        self.settings = settings
        self.journal = journal
        self.reports = reports
        self.registry = reports.registry
        self.checkins = checkins
        self.requests = requests
        self.roles = roles or Roles.from_settings(settings)
        self.publisher = publisher
        self.reminders = reminders

    # Entry point

    async def on_turn(self, turn_context: TurnContext):
        """Handle one activity, log one line about it, and apologise if it fails."""
        started = time.perf_counter()
        activity = turn_context.activity
        turn_context.turn_state["outcome"] = "ok"
        try:
            await super().on_turn(turn_context)
        except Exception:
            turn_context.turn_state["outcome"] = "failed"
            log.exception(
                "turn failed: %s %s in %s", activity.type, verb_of(activity), conversation_of(activity)
            )
            await self._apologise(turn_context)
        finally:
            log.info(
                "%s %s conversation=%s outcome=%s %.1fms",
                activity.type,
                turn_context.turn_state.get("verb") or verb_of(activity) or "-",
                conversation_of(activity),
                turn_context.turn_state.get("outcome"),
                (time.perf_counter() - started) * 1000,
            )

    async def _apologise(self, turn_context: TurnContext) -> None:
        lang = language_of_locale(turn_context.activity.locale)
        if turn_context.activity.type == ActivityTypes.invoke:
            body = {
                "statusCode": 500,
                "type": ERROR_CONTENT_TYPE,
                "value": {"code": "InternalError", "message": text(lang, "failure")},
            }
            turn_context.turn_state[TurnContext._INVOKE_RESPONSE_KEY] = Activity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
            return
        try:
            await turn_context.send_activity(text(lang, "failure"))
        except Exception:
            log.exception("could not send the apology to %s", conversation_of(turn_context.activity))

    # Messages

    async def on_message_activity(self, turn_context: TurnContext):
        command = parse_command(turn_context.activity.text)
        turn = await read_turn(turn_context, self.journal, self.settings, hint=command.lang)
        turn_context.turn_state["verb"] = command.name or "unknown"

        if command.name == "report":
            card = await self.create_report_entry(turn, query=command.argument)
        elif command.name == "board":
            card = await self.create_board(turn)
        elif command.name == "checkin":
            card = await self.create_checkin_form(turn)
        elif command.name == "request":
            card = await self.create_request_form(turn, query=command.argument)
        elif command.name == "request_list":
            card = await self.handle_request_list(turn, {})
        elif command.name in ("board_here", "board_off"):
            await self.manage_board(turn, register=command.name == "board_here")
            return
        elif command.name == "language":
            lang = await self._choose_language(turn, language_named(command.argument))
            await turn_context.send_activity(text(lang, "language_set"))
            return
        else:
            card = create_help_card(turn.lang)
        await send_card(turn_context, card)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context):
        bot_id = turn_context.activity.recipient.id
        if any(member.id == bot_id for member in members_added):
            turn = await read_turn(turn_context, self.journal, self.settings)
            await send_card(turn_context, create_welcome_card(turn.lang))

    # Card actions

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)

        action = (activity.value or {}).get("action") or {}
        verb = action.get("verb") or ""
        data = action.get("data") or {}
        handler = getattr(self, f"handle_{verb}", None) if verb in VERBS else None
        turn = await read_turn(
            turn_context, self.journal, self.settings, card_lang=data.get("lang")
        )
        if handler is None:
            turn_context.turn_state["outcome"] = "unknown verb"
            return card_response(create_help_card(turn.lang))
        return card_response(await handler(turn, data))

    async def handle_report(self, turn: Turn, data: dict) -> dict:
        if data.get("pick"):
            return create_report_pick_card(turn.lang, self.registry.shelters() or self.registry)
        site = self.registry.get(str(data.get("site_id") or ""))
        if site is not None:
            return await self.create_report_form(turn, site)
        return await self.create_report_entry(turn)

    async def handle_report_pick(self, turn: Turn, data: dict) -> dict:
        site = self.registry.get(str(data.get("site_id") or ""))
        if site is None:
            return create_report_pick_card(turn.lang, self.registry.shelters() or self.registry)
        return await self.create_report_form(turn, site)

    async def handle_report_save(self, turn: Turn, data: dict) -> dict:
        submission_id = str(data.get("submission_id") or "")[:100] or str(uuid.uuid4())
        outcome = await self.reports.submit(submission_id, data, turn.reporter)

        if isinstance(outcome, Accepted):
            turn.context.turn_state["outcome"] = "duplicate" if outcome.duplicate else "recorded"
            await self._remember_reporter(turn)
            site = self.registry.get(outcome.record.report.site_id)
            return create_report_saved_card(turn.lang, site, outcome.record, zone=turn.zone)

        turn.context.turn_state["outcome"] = "rejected " + ",".join(outcome.rejection.errors)
        site = self.registry.get(str(data.get("site_id") or ""))
        if site is None:
            return create_report_pick_card(
                turn.lang,
                self.registry.shelters() or self.registry,
                notice=text(turn.lang, "error_unknown_site"),
            )
        values = {key: str(value) for key, value in data.items() if key not in ("lang",)}
        return await self.create_report_form(
            turn, site, submission_id, values=values, errors=outcome.rejection.errors
        )

    async def handle_board(self, turn: Turn, data: dict) -> dict:
        try:
            page = int(data.get("page") or 1)
        except (TypeError, ValueError):
            page = 1
        return await self.create_board(turn, page=page)

    async def handle_board_refresh(self, turn: Turn, data: dict) -> dict:
        """Answer a board card's refresh: Teams asks when someone opens an old card."""
        return await self.handle_board(turn, data)

    async def handle_report_view(self, turn: Turn, data: dict) -> dict:
        """Show one report (from an alert's button), or a site's latest."""
        record = None
        if str(data.get("report_id") or "").isdigit():
            record = await self.journal.report(int(data["report_id"]))
        elif data.get("site_id"):
            record = await self.journal.latest_report(str(data["site_id"]))
        if record is None:
            turn.context.turn_state["outcome"] = "not found"
            return create_report_view_card(turn.lang, None, None, zone=turn.zone)
        site = self.registry.get(record.report.site_id)
        newer = await self.journal.latest_report(record.report.site_id)
        return create_report_view_card(turn.lang, site, record, zone=turn.zone, newer=newer)

    async def handle_help(self, turn: Turn, data: dict) -> dict:
        return create_help_card(turn.lang)

    async def handle_language(self, turn: Turn, data: dict) -> dict:
        return create_help_card(await self._choose_language(turn, data.get("lang")))

    async def _choose_language(self, turn: Turn, lang: str | None) -> str:
        """Remember the user's language; with none named, switch to the other one."""
        if lang not in LANGUAGES:
            lang = "en" if turn.lang == "ja" else "ja"
        await self.journal.set_language(turn.reporter.user_id, lang)
        turn.lang = lang
        return lang

    # Card builders that need the journal

    async def create_report_entry(self, turn: Turn, query: str = "") -> dict:
        """Open the report form directly when the site is clear, else the site picker."""
        if query:
            matches = self.registry.search(query)
            if len(matches) == 1:
                return await self.create_report_form(turn, matches[0])
            notice_key = "pick_matches" if matches else "pick_no_match"
            choices = matches or self.registry.shelters() or list(self.registry)
            return create_report_pick_card(
                turn.lang, choices, notice=text(turn.lang, notice_key, query=clean(query, 40))
            )

        last_site = self.registry.get(await self.journal.last_site_of(turn.reporter.user_id) or "")
        if last_site is not None:
            return await self.create_report_form(turn, last_site)
        return create_report_pick_card(turn.lang, self.registry.shelters() or self.registry)

    async def create_report_form(
        self,
        turn: Turn,
        site: Site,
        submission_id: str | None = None,
        *,
        values: dict | None = None,
        errors: dict | None = None,
    ) -> dict:
        last = await self.journal.latest_report(site.id)
        if values is None and last is not None:
            values = last.report.to_fields()
        return create_report_card(
            turn.lang,
            site,
            submission_id or str(uuid.uuid4()),
            values=values,
            errors=errors,
            last=last,
            zone=turn.zone,
            now=self.reports.clock(),
        )

    async def create_board(self, turn: Turn, page: int = 1) -> dict:
        """Render the board; in a live board's conversation, note who is looking."""
        board = await self.reports.board()
        activity = turn.context.activity
        conversation_id = conversation_key(conversation_of(activity))
        registration = self.publisher.registration(conversation_id) if self.publisher else None
        if registration is None:
            return create_board_card(
                turn.lang,
                board,
                zone=turn.zone,
                page=page,
                refresh_users=[turn.reporter.user_id],
                names=self.roles.is_hq(turn.reporter),
            )

        await self.publisher.viewed(conversation_id, turn.reporter.user_id)
        registration = self.publisher.registration(conversation_id) or registration
        # An action on the live card itself keeps it reading as live for this person.
        live = activity.type == ActivityTypes.invoke and activity.reply_to_id in (
            None,
            registration.activity_id,
        )
        return create_board_card(
            turn.lang,
            board,
            zone=turn.zone,
            page=page,
            refresh_users=registration.viewers,
            live=live,
            names=True,
        )

    # Live boards and reporters' conversations

    async def manage_board(self, turn: Turn, register: bool) -> None:
        """Register this conversation as a live board, or stop it (HQ only)."""
        context = turn.context
        if not self.roles.is_hq(turn.reporter):
            context.turn_state["outcome"] = "refused"
            await context.send_activity(text(turn.lang, "board_hq_only"))
            return
        if self.publisher is None:
            raise RuntimeError("live boards are not running in this process")

        if register:
            reference = reference_of(context.activity, top_level=True)
            await self.publisher.register(
                reference, turn.lang, turn.zone.key, turn.reporter.user_id
            )
            context.turn_state["outcome"] = "registered"
            return
        removed = await self.publisher.unregister(conversation_key(conversation_of(context.activity)))
        context.turn_state["outcome"] = "removed" if removed else "no board"
        await context.send_activity(text(turn.lang, "board_off_done" if removed else "board_off_none"))

    async def _remember_reporter(self, turn: Turn) -> None:
        """Keep the reporter's conversation for reminders; never fails the report."""
        if self.reminders is None:
            return
        activity = turn.context.activity
        personal = (activity.conversation.conversation_type or "personal") == "personal"
        try:
            await self.reminders.remember(
                turn.reporter.user_id, reference_of(activity, top_level=True), personal, turn.lang
            )
        except Exception:
            log.exception("could not remember how to reach %s", turn.reporter.user_id)


VERBS = frozenset(
    {
        "report",
        "report_pick",
        "report_save",
        "report_view",
        "board",
        "board_refresh",
        "checkin",
        "checkin_save",
        "checkin_view",
        "request",
        "request_save",
        "request_view",
        "request_move",
        "request_list",
        "help",
        "language",
    }
)
