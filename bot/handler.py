"""The Teams activity handler: commands, card actions (Action.Execute) and installs.

Each card verb has one handler method named after it (`report_save` ->
`handle_report_save`), which calls a use case and answers with a card. Nothing a
user waits on here talks to Graph or to another conversation.
"""

from __future__ import annotations

import logging
import time
import unicodedata
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount

from bot.cards import CARD_CONTENT_TYPE, create_help_card, create_welcome_card
from bot.cards.board import create_board_card
from bot.cards.report import create_report_card, create_report_pick_card, create_report_saved_card
from bot.commands import language_named, parse_command
from bot.locales import LANGUAGES, language_of_locale, text
from bot.model import Reporter, Site
from bot.reports import Accepted, Reports
from bot.settings import Settings
from bot.store import Journal

log = logging.getLogger(__name__)

ERROR_CONTENT_TYPE = "application/vnd.microsoft.error"


@dataclass
class Turn:
    """What one handler call needs to know about the person it answers."""

    context: TurnContext
    lang: str
    zone: ZoneInfo
    reporter: Reporter


class BcpBot(ActivityHandler):
    """Answer Teams activities for BCP Board."""

    def __init__(self, settings: Settings, journal: Journal, reports: Reports):
        self.settings = settings
        self.journal = journal
        self.reports = reports
        self.registry = reports.registry

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
                "turn failed: %s %s in %s", activity.type, _verb(activity), _conversation(activity)
            )
            await self._apologise(turn_context)
        finally:
            log.info(
                "%s %s conversation=%s outcome=%s %.1fms",
                activity.type,
                turn_context.turn_state.get("verb") or _verb(activity) or "-",
                _conversation(activity),
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
            log.exception("could not send the apology to %s", _conversation(turn_context.activity))

    # Messages

    async def on_message_activity(self, turn_context: TurnContext):
        command = parse_command(turn_context.activity.text)
        turn = await self._turn(turn_context, hint=command.lang)
        turn_context.turn_state["verb"] = command.name or "unknown"

        if command.name == "report":
            card = await self.create_report_entry(turn, query=command.argument)
        elif command.name == "board":
            card = await self.create_board(turn)
        elif command.name == "language":
            lang = await self._choose_language(turn, language_named(command.argument))
            await turn_context.send_activity(text(lang, "language_set"))
            return
        else:
            card = create_help_card(turn.lang)
        await _send_card(turn_context, card)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context):
        bot_id = turn_context.activity.recipient.id
        if any(member.id == bot_id for member in members_added):
            turn = await self._turn(turn_context)
            await _send_card(turn_context, create_welcome_card(turn.lang))

    # Card actions

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)

        action = (activity.value or {}).get("action") or {}
        verb = action.get("verb") or ""
        data = action.get("data") or {}
        handler = getattr(self, f"handle_{verb}", None) if verb in VERBS else None
        turn = await self._turn(turn_context, card_lang=data.get("lang"))
        if handler is None:
            turn_context.turn_state["outcome"] = "unknown verb"
            return _card_response(create_help_card(turn.lang))
        return _card_response(await handler(turn, data))

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
                turn.lang, choices, notice=text(turn.lang, notice_key, query=_clean(query, 40))
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
        board = await self.reports.board()
        return create_board_card(turn.lang, board, zone=turn.zone, page=page)

    # Who is asking

    async def _turn(
        self, turn_context: TurnContext, hint: str | None = None, card_lang: str | None = None
    ) -> Turn:
        activity = turn_context.activity
        sender = activity.from_property or ChannelAccount(id="unknown")
        reporter = Reporter(
            user_id=sender.id or "unknown",
            aad_object_id=sender.aad_object_id or "",
            name=_clean(sender.name or "", 100),
        )
        lang = await self._language(reporter.user_id, activity.locale, hint, card_lang)
        return Turn(turn_context, lang, self._zone(activity), reporter)

    async def _language(self, user_id, locale, hint, card_lang) -> str:
        """Choose the reply language.

        In order: the user's own choice, the language of the card they pressed, the
        language they typed a command in, BCP_DEFAULT_LOCALE, the activity's locale.
        """
        chosen = await self.journal.language_of(user_id)
        for candidate in (chosen, card_lang, hint, self.settings.default_locale):
            if candidate in LANGUAGES:
                return candidate
        return language_of_locale(locale)

    def _zone(self, activity: Activity) -> ZoneInfo:
        # NOTE: Teams sends the client's IANA zone in `localTimezone` on messages and invokes.
        for name in (activity.local_timezone, self.settings.timezone):
            if name:
                try:
                    return ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")


VERBS = frozenset({"report", "report_pick", "report_save", "board", "help", "language"})


def _card_response(card: dict) -> InvokeResponse:
    return InvokeResponse(
        status=200, body={"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}
    )


async def _send_card(turn_context: TurnContext, card: dict) -> None:
    await turn_context.send_activity(
        MessageFactory.attachment(Attachment(content_type=CARD_CONTENT_TYPE, content=card))
    )


def _verb(activity: Activity) -> str:
    if activity.type == ActivityTypes.invoke and isinstance(activity.value, dict):
        return str((activity.value.get("action") or {}).get("verb") or activity.name)
    return ""


def _conversation(activity: Activity) -> str:
    return activity.conversation.id if activity.conversation else "-"


def _clean(value: str, limit: int) -> str:
    """Strip control characters from user text before it is logged or shown."""
    kept = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return kept[:limit]
