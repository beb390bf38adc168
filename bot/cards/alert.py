"""Builders of the alert cards that HQ boards receive.

One alert is about one site's critical changes, one person asking for help or one new
supply request. A post carries one alert, or, when several wait for the same
conversation during a burst, a group of them: each with its own button, at most
`MAX_LISTED`, the rest counted (sites and people apart from requests) and left to the
board.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.cards.fields import clip
from bot.cards.render import render
from bot.cards.request import create_request_view_card, request_title
from bot.critical import Change, ChangeKind
from bot.locales import format_time, strings, text
from bot.model import RecordedReport, Site
from bot.staff import RecordedCheckIn
from bot.supplies import Priority, RecordedRequest, RequestEvent

# Ten alerts with their buttons keep a grouped card readable on a phone and far below
# the 28 KB Teams accepts for a message.
MAX_LISTED = 10
# The first line of a request's items, enough to tell blankets from baby formula.
ITEMS_PREVIEW = 80


@dataclass(frozen=True)
class SiteAlert:
    """Critical changes at a site, linking to its latest report."""

    site: Site
    changes: tuple[Change, ...]
    record: RecordedReport


@dataclass(frozen=True)
class HelpAlert:
    """A member of staff asking for help, linking to their check-in."""

    record: RecordedCheckIn


@dataclass(frozen=True)
class RequestAlert:
    """A new supply request, opening it with HQ's buttons.

    Attributes:
        site: the requesting site, None when the registry no longer knows it.
        events: the request's history, for the full request card it gets when alone.
    """

    record: RecordedRequest
    site: Site | None
    events: tuple[RequestEvent, ...] = ()


Alert = SiteAlert | HelpAlert | RequestAlert


def create_alert_post(
    lang: str, alerts: list[Alert], *, zone: ZoneInfo, viewers: tuple[str, ...] = ()
) -> tuple[dict, str]:
    """Return the card and notification preview for one post carrying `alerts`.

    One alert gets its own card (a request, its full card with HQ's buttons, refreshing
    itself for `viewers`); several get one card listing them: people asking for help
    first, then sites, then requests (urgent ones first), each kind in the order it came.
    """
    if len(alerts) == 1:
        (alert,) = alerts
        if isinstance(alert, RequestAlert):
            card = create_request_view_card(
                lang,
                alert.record,
                alert.site,
                zone=zone,
                hq=True,
                events=list(alert.events),
                refresh_users=viewers,
            )
            return card, text(lang, "request_new_title", site=_subject_name(lang, alert))
        if isinstance(alert, HelpAlert):
            card = create_help_alert_card(lang, alert.record, zone=zone)
            return card, help_alert_title(lang, alert.record)
        card = create_alert_card(lang, alert.site, list(alert.changes), alert.record, zone=zone)
        return card, alert_title(lang, alert.site)
    return create_alert_group_card(lang, alerts, zone=zone), alert_group_summary(lang, alerts)


def create_alert_group_card(lang: str, alerts: list[Alert], *, zone: ZoneInfo) -> dict:
    """Render several alerts as one card, each with its own button to open its record."""
    ordered = sorted(alerts, key=_rank)
    listed = ordered[:MAX_LISTED]
    hidden = ordered[MAX_LISTED:]
    hidden_requests = sum(isinstance(alert, RequestAlert) for alert in hidden)
    more = []
    if len(hidden) > hidden_requests:
        more.append({"text": text(lang, "alert_group_more", count=len(hidden) - hidden_requests)})
    if hidden_requests:
        more.append({"text": text(lang, "alert_group_more_requests", count=hidden_requests)})
    return render(
        "alert_group",
        lang,
        {
            "title": _group_count(lang, alerts, "title"),
            "alerts": [_entry(lang, alert, zone) for alert in listed],
            "more": more,
        },
    )


def alert_group_summary(lang: str, alerts: list[Alert]) -> str:
    """Return the notification preview of a grouped alert: the count and the first names."""
    names = [_subject_name(lang, alert) for alert in alerts[:3]]
    if len(alerts) > 3:
        names.append("…")
    separator = "、" if lang == "ja" else ", "
    counted = _group_count(lang, alerts, "count")
    return text(lang, "alert_group_summary", counted=counted, names=separator.join(names))


def _group_count(lang: str, alerts: list[Alert], form: str) -> str:
    """Count a group's critical alerts and new requests, as a card `title` or in a `count`."""
    requests = sum(isinstance(alert, RequestAlert) for alert in alerts)
    critical = len(alerts) - requests
    if not requests:
        return text(lang, f"alert_group_{form}", count=critical)
    if not critical:
        return text(lang, f"alert_group_requests_{form}", count=requests)
    return text(lang, f"alert_group_mixed_{form}", count=critical, requests=requests)


def _rank(alert: Alert) -> int:
    if isinstance(alert, HelpAlert):
        return 0
    if isinstance(alert, SiteAlert):
        return 1
    return 2 if alert.record.request.priority is Priority.URGENT else 3


def _entry(lang: str, alert: Alert, zone: ZoneInfo) -> dict:
    words = strings(lang)
    if isinstance(alert, RequestAlert):
        record = alert.record
        lines = record.request.items.strip().splitlines() or [""]
        first = clip(lines[0], ITEMS_PREVIEW) + (" …" if len(lines) > 1 else "")
        return {
            "heading": request_title(lang, record, alert.site),
            "reported": text(
                lang,
                "alert_requested",
                when=format_time(record.requested_at, zone, lang),
                name=record.requester.name or "-",
            ),
            "changes": [{"text": first}],
            "view_title": words["alert_view_request"],
            "view_verb": "request_view",
            "view_data": {"lang": lang, "request_id": record.id},
        }
    if isinstance(alert, HelpAlert):
        return {
            "heading": help_alert_title(lang, alert.record),
            "reported": _reported(lang, alert.record, zone),
            "changes": _help_lines(lang, alert.record),
            "view_title": words["alert_view_checkin"],
            "view_verb": "checkin_view",
            "view_data": {"lang": lang, "checkin_id": alert.record.id},
        }
    return {
        "heading": alert_title(lang, alert.site),
        "reported": _reported(lang, alert.record, zone),
        "changes": [{"text": change_text(lang, change)} for change in alert.changes],
        "view_title": words["alert_view"],
        "view_verb": "report_view",
        "view_data": {"lang": lang, "report_id": alert.record.id},
    }


def _subject_name(lang: str, alert: Alert) -> str:
    if isinstance(alert, HelpAlert):
        return alert.record.reporter.name or "-"
    if isinstance(alert, RequestAlert) and alert.site is None:
        return alert.record.request.site_id
    return alert.site.name(lang)


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
    return render(
        "alert",
        lang,
        {
            "title": help_alert_title(lang, record),
            "reported": _reported(lang, record, zone),
            "changes": _help_lines(lang, record),
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


def _help_lines(lang: str, record: RecordedCheckIn) -> list[dict]:
    where = strings(lang)[f"whereabouts_{record.check_in.whereabouts.value}"]
    return [{"text": text(lang, "alert_need_help", where=where)}, {"text": record.check_in.note}]


def _reported(lang: str, record: RecordedReport | RecordedCheckIn, zone: ZoneInfo) -> str:
    """Say when and by whom the record that raised the alert was sent."""
    return text(
        lang,
        "alert_reported",
        when=format_time(record.received_at, zone, lang),
        name=record.reporter.name or "-",
    )
