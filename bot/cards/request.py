"""Builders of the supply request cards: the form, one request with its buttons, the list."""

from __future__ import annotations

import uuid
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from bot.cards.fields import choices, clip
from bot.cards.render import render
from bot.cards.report import PICK_LIMIT
from bot.locales import format_time, strings, text
from bot.model import Site
from bot.supplies import (
    HQ_MOVES,
    MOVES,
    Priority,
    RecordedRequest,
    RequestEvent,
    RequestState,
)

# How many requests the list card shows; the rest are counted.
LIST_LIMIT = 20
STATE_COLORS = {
    RequestState.REQUESTED: "Attention",
    RequestState.APPROVED: "Warning",
    RequestState.DISPATCHED: "Accent",
    RequestState.DELIVERED: "Good",
    RequestState.CANCELLED: "Default",
}
MOVE_STYLES = {RequestState.CANCELLED: "destructive"}


def create_request_card(
    lang: str,
    sites: Iterable[Site],
    submission_id: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict:
    """Render the supply request form.

    Args:
        values: input values to show: the user's own after a rejection, else their site.
        errors: field name -> locale message key, shown beside each field.
    """
    words = strings(lang)
    return render(
        "request",
        lang,
        {
            "submission_id": submission_id,
            "values": {"priority": Priority.NORMAL.value, "items": "", **(values or {})},
            "errors": {name: words[key] for name, key in (errors or {}).items()},
            "sites": [
                {"title": site.name(lang), "value": site.id} for site in list(sites)[:PICK_LIMIT]
            ],
            "priority_choices": choices(words, "priority", Priority),
        },
    )


def create_request_view_card(
    lang: str,
    record: RecordedRequest | None,
    site: Site | None,
    *,
    zone: ZoneInfo,
    hq: bool,
    events: list[RequestEvent] = (),
    notice: str = "",
    notice_style: str = "good",
    refresh_users: list[str] | tuple[str, ...] = (),
) -> dict:
    """Render one request with the buttons that `hq` (or not) may press now.

    Args:
        events: the request's history, oldest first.
        notice: a line above the request ("Request sent", "Already approved").
        refresh_users: Teams user ids whose copy refreshes itself when opened.
    """
    if record is None:
        return render("request_view", lang, {"notice": notice, "notice_style": notice_style})
    words = strings(lang)
    moves = [
        state for state in MOVES[record.state] if hq or state not in HQ_MOVES
    ]
    return render(
        "request_view",
        lang,
        {
            "request_id": record.id,
            "title": request_title(lang, record, site),
            "state": words[f"request_state_{record.state.value}"],
            "state_color": STATE_COLORS[record.state],
            "items": record.request.items,
            "facts": _facts(lang, record, zone),
            "history": "\n\n".join(_event_line(lang, event, zone) for event in events),
            "can_note": hq and bool(moves),
            "moves": [
                {
                    "title": words[f"request_move_{state.value}"],
                    "state": state.value,
                    "style": MOVE_STYLES.get(state, "positive"),
                }
                for state in moves
            ],
            "action_id": str(uuid.uuid4()),
            "notice": notice,
            "notice_style": notice_style,
            "refresh_users": list(refresh_users)[:60] or None,
        },
    )


def create_request_list_card(
    lang: str, records: list[RecordedRequest], sites: Mapping[str, Site], *, zone: ZoneInfo
) -> dict:
    """Render the open requests, urgent ones first, then oldest first."""
    words = strings(lang)
    ordered = sorted(
        records, key=lambda r: (r.request.priority is not Priority.URGENT, r.requested_at)
    )
    rows = [
        {
            "request_id": record.id,
            "title": request_title(lang, record, sites.get(record.request.site_id)),
            "state": words[f"request_state_{record.state.value}"],
            "state_color": STATE_COLORS[record.state],
            "detail": clip(" / ".join(record.request.items.split("\n")), 120),
            "style": "attention" if record.request.priority is Priority.URGENT else "default",
            "open_title": words["request_open"],
        }
        for record in ordered[:LIST_LIMIT]
    ]
    hidden = len(ordered) - LIST_LIMIT
    return render(
        "request_list",
        lang,
        {
            "summary": text(lang, "request_list_summary", count=len(records))
            if records
            else words["request_list_empty"],
            "rows": rows,
            "more": text(lang, "request_list_more", count=hidden) if hidden > 0 else "",
        },
    )


def request_title(lang: str, record: RecordedRequest, site: Site | None) -> str:
    """Return "#12 Chuo Elementary School", with the urgent mark when urgent."""
    name = site.name(lang) if site else record.request.site_id
    title = text(lang, "request_label", id=record.id, site=name)
    if record.request.priority is Priority.URGENT:
        title = f"{strings(lang)['priority_urgent_mark']} {title}"
    return title


def _facts(lang: str, record: RecordedRequest, zone: ZoneInfo) -> list[dict]:
    words = strings(lang)
    facts = [
        {
            "title": words["field_priority"],
            "value": words[f"priority_{record.request.priority.value}"],
        },
        {
            "title": words["request_requested_by"],
            "value": text(
                lang,
                "request_by_at",
                name=record.requester.name or "-",
                when=format_time(record.requested_at, zone, lang),
            ),
        },
    ]
    if record.note:
        facts.append({"title": words["field_hq_note"], "value": record.note})
    return facts


def _event_line(lang: str, event: RequestEvent, zone: ZoneInfo) -> str:
    words = strings(lang)
    line = text(
        lang,
        "request_event",
        when=format_time(event.at, zone, lang),
        state=words[f"request_state_{event.state.value}"],
        name=event.actor.name or "-",
    )
    if event.source == "lists":
        line += words["request_event_from_lists"]
    if event.note:
        line += f": {event.note}"
    return line
