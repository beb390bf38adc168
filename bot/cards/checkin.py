"""Builders of the staff check-in cards: the form, its confirmation, and the view HQ opens."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping
from zoneinfo import ZoneInfo

from bot.cards.fields import choices
from bot.cards.render import render
from bot.locales import format_age, format_time, strings, text
from bot.staff import Availability, RecordedCheckIn, Safety, Whereabouts

DEFAULTS = {
    "safety": Safety.SAFE.value,
    "whereabouts": Whereabouts.HOME.value,
    "availability": Availability.NOW.value,
}


def create_checkin_card(
    lang: str,
    submission_id: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    last: RecordedCheckIn | None = None,
    zone: ZoneInfo,
    now: datetime,
) -> dict:
    """Render the check-in form.

    Args:
        values: input values to show: the user's own after a rejection, else their last
            check-in, else "safe, at home, can come now".
        errors: field name -> locale message key, shown beside each field.
        last: the person's last check-in, named at the top of the form.
    """
    words = strings(lang)
    if last is not None:
        age = format_age(now - last.received_at, lang)
        when = f"{format_time(last.received_at, zone, lang)} ({age})"
        history = text(lang, "checkin_last", when=when)
    else:
        history = words["checkin_first"]
    return render(
        "checkin",
        lang,
        {
            "submission_id": submission_id,
            "history": history,
            "values": {**DEFAULTS, "arrival": "", "note": "", **(values or {})},
            "errors": {name: words[key] for name, key in (errors or {}).items()},
            "safety_choices": choices(words, "safety", Safety),
            "whereabouts_choices": choices(words, "whereabouts", Whereabouts),
            "availability_choices": choices(words, "availability", Availability),
        },
    )


def create_checkin_saved_card(lang: str, record: RecordedCheckIn, *, zone: ZoneInfo) -> dict:
    """Render the confirmation that replaces the form once a check-in is recorded."""
    need_help = record.check_in.safety is Safety.NEED_HELP
    return render(
        "checkin_saved",
        lang,
        {
            "summary": text(
                lang, "checkin_saved_text", when=format_time(record.received_at, zone, lang)
            ),
            "help_notice": text(lang, "checkin_help_notice") if need_help else "",
            "style": "attention" if need_help else "good",
            "facts": check_in_facts(lang, record),
        },
    )


def create_checkin_view_card(
    lang: str,
    record: RecordedCheckIn | None,
    *,
    zone: ZoneInfo,
    newer: RecordedCheckIn | None = None,
) -> dict:
    """Render one check-in, as opened from an alert; say so when a newer one exists."""
    if record is None:
        return render("checkin_view", lang, {"summary": "", "facts": [], "newer": ""})
    notice = ""
    if newer is not None and newer.id != record.id:
        notice = text(
            lang,
            "checkin_view_newer",
            when=format_time(newer.received_at, zone, lang),
            safety=strings(lang)[f"safety_{newer.check_in.safety.value}"],
        )
    return render(
        "checkin_view",
        lang,
        {
            "summary": text(
                lang,
                "checkin_view_summary",
                name=record.reporter.name or "-",
                when=format_time(record.received_at, zone, lang),
            ),
            "facts": check_in_facts(lang, record),
            "newer": notice,
        },
    )


def check_in_facts(lang: str, record: RecordedCheckIn) -> list[dict]:
    """Return a check-in as FactSet facts: safety, whereabouts, availability, note."""
    words = strings(lang)
    check_in = record.check_in
    availability = words[f"availability_{check_in.availability.value}"]
    if check_in.arrival:
        availability = text(
            lang, "checkin_arrival", availability=availability, time=check_in.arrival
        )
    facts = [
        {"title": words["field_safety"], "value": words[f"safety_{check_in.safety.value}"]},
        {
            "title": words["field_whereabouts"],
            "value": words[f"whereabouts_{check_in.whereabouts.value}"],
        },
        {"title": words["field_availability"], "value": availability},
    ]
    if check_in.note:
        facts.append({"title": words["field_checkin_note"], "value": check_in.note})
    return facts
