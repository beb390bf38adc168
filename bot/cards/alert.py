"""Builder of the critical-change alert card that HQ boards receive."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.cards.render import render
from bot.critical import Change, ChangeKind
from bot.locales import format_time, strings, text
from bot.model import RecordedReport, Site


def create_alert_card(
    lang: str, site: Site, changes: list[Change], record: RecordedReport, *, zone: ZoneInfo
) -> dict:
    """Render the alert for `changes` at `site`, linking to `record` (its latest report)."""
    return render(
        "alert",
        lang,
        {
            "title": alert_title(lang, site),
            "reported": text(
                lang,
                "alert_reported",
                when=format_time(record.received_at, zone, lang),
                name=record.reporter.name or "-",
            ),
            "changes": [{"text": change_text(lang, change)} for change in changes],
            "report_id": record.id,
        },
    )


def alert_title(lang: str, site: Site) -> str:
    """Return the alert's title, also used as the notification preview."""
    return text(lang, "alert_title", site=site.name(lang))


def change_text(lang: str, change: Change) -> str:
    words = strings(lang)
    if change.kind is ChangeKind.FULL:
        return words["alert_full"]
    if change.kind is ChangeKind.LIFELINE_DOWN:
        return text(lang, "alert_lifeline_down", lifeline=words[f"lifeline_{change.item}"])
    return text(lang, "alert_supply_out", item=words[f"supply_{change.item}"])
