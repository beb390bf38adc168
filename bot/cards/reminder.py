"""Builder of the reminder card sent to the last reporters of a silent site."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.cards.render import render
from bot.locales import format_duration, format_time, text
from bot.model import RecordedReport, Site


def create_reminder_card(
    lang: str, site: Site, last: RecordedReport, *, silent_for: timedelta, zone: ZoneInfo
) -> dict:
    """Render the request to report on `site`, silent for `silent_for` since `last`."""
    return render(
        "reminder",
        lang,
        {
            "text": text(
                lang, "reminder_text", site=site.name(lang), age=format_duration(silent_for, lang)
            ),
            "last": text(
                lang,
                "reminder_last",
                when=format_time(last.received_at, zone, lang),
                name=last.reporter.name or "-",
            ),
            "site_id": site.id,
        },
    )
