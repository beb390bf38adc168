"""Builder of the critical-change alert card that HQ boards receive."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.cards.render import render
from bot.critical import Change, ChangeKind
from bot.locales import format_time, strings, text
from bot.model import RecordedReport, Site
from bot.staff import RecordedCheckIn


def create_alert_card(
    lang: str, site: Site, changes: list[Change], record: RecordedReport, *, zone: ZoneInfo
) -> dict:
    """Render the alert for `changes` at `site`, linking to `record` (its latest report)."""
    return render(
        "alert",
        lang,
        {
            "title": alert_title(lang, site),
            "reported": _reported(lang, record, zone),
            "changes": [{"text": change_text(lang, change)} for change in changes],
            "view_title": strings(lang)["alert_view"],
            "view_verb": "report_view",
            "view_data": {"lang": lang, "report_id": record.id},
        },
    )


def create_help_alert_card(lang: str, record: RecordedCheckIn, *, zone: ZoneInfo) -> dict:
    """Render the alert that a member of staff asked for help, linking to their check-in."""
    words = strings(lang)
    check_in = record.check_in
    where = words[f"whereabouts_{check_in.whereabouts.value}"]
    return render(
        "alert",
        lang,
        {
            "title": help_alert_title(lang, record),
            "reported": _reported(lang, record, zone),
            "changes": [
                {"text": text(lang, "alert_need_help", where=where)},
                {"text": check_in.note},
            ],
            "view_title": words["alert_view_checkin"],
            "view_verb": "checkin_view",
            "view_data": {"lang": lang, "checkin_id": record.id},
        },
    )


def help_alert_title(lang: str, record: RecordedCheckIn) -> str:
    """Return the help alert's title, also used as the notification preview."""
    return text(lang, "alert_help_title", name=record.reporter.name or "-")


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


def _reported(lang: str, record: RecordedReport | RecordedCheckIn, zone: ZoneInfo) -> str:
    """Say when and by whom the record that raised the alert was sent."""
    return text(
        lang,
        "alert_reported",
        when=format_time(record.received_at, zone, lang),
        name=record.reporter.name or "-",
    )
