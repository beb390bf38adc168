"""Who is asking, in what language and time zone, and how a turn is answered.

The handler reads a `Turn` from each activity before it dispatches; the helpers below
are the few conversions between cards and Bot Framework activities that it needs.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.adapter import card_activity
from bot.locales import LANGUAGES, language_of_locale
from bot.model import Reporter
from bot.settings import Settings
from bot.store import Journal


@dataclass
class Turn:
    """What one handler call needs to know about the person it answers."""

    context: TurnContext
    lang: str
    zone: ZoneInfo
    reporter: Reporter


async def read_turn(
    turn_context: TurnContext,
    journal: Journal,
    settings: Settings,
    hint: str | None = None,
    card_lang: str | None = None,
) -> Turn:
    """Return who sent the activity, and the language and time zone to answer in.

    Args:
        hint: the language a typed command was written in.
        card_lang: the language of the card whose button was pressed.
    """
    activity = turn_context.activity
    sender = activity.from_property or ChannelAccount(id="unknown")
    reporter = Reporter(
        user_id=sender.id or "unknown",
        aad_object_id=sender.aad_object_id or "",
        name=clean(sender.name or "", 100),
    )
    # The user's own choice, the card's language, the command's, the setting, the locale.
    chosen = await journal.language_of(reporter.user_id)
    lang = next(
        (c for c in (chosen, card_lang, hint, settings.default_locale) if c in LANGUAGES),
        language_of_locale(activity.locale),
    )
    return Turn(turn_context, lang, _zone(activity, settings.timezone), reporter)


def _zone(activity: Activity, fallback: str) -> ZoneInfo:
    # NOTE: Teams sends the client's IANA zone in `localTimezone` on messages and invokes.
    for name in (activity.local_timezone, fallback):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


async def send_card(turn_context: TurnContext, card: dict) -> None:
    await turn_context.send_activity(card_activity(card))


def verb_of(activity: Activity) -> str:
    if activity.type == ActivityTypes.invoke and isinstance(activity.value, dict):
        return str((activity.value.get("action") or {}).get("verb") or activity.name)
    return ""


def conversation_of(activity: Activity) -> str:
    return activity.conversation.id if activity.conversation else "-"


def clean(value: str, limit: int) -> str:
    """Strip control characters from user text before it is logged or shown."""
    kept = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return kept[:limit]
