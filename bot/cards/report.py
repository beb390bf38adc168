"""Builders of the shelter report cards: site picker, report form, confirmation, view."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from bot.cards.fields import choices
from bot.cards.render import render
from bot.locales import format_age, format_percent, format_time, strings, text
from bot.model import LIFELINES, SUPPLIES, Lifeline, RecordedReport, ShelterStatus, Site, SupplyLevel

# Every site up to this many fits a card well under Teams' 80 KB (about 60 bytes each);
# beyond it, "報告 <name>" narrows the list first.
PICK_LIMIT = 800


def create_report_pick_card(
    lang: str, sites: Iterable[Site], selected: str = "", notice: str = ""
) -> dict:
    """Render the site picker: a filtered choice set that types ahead on phones."""
    choices = [
        {"title": _site_title(site, lang), "value": site.id}
        for site in list(sites)[:PICK_LIMIT]
    ]
    return render(
        "report_pick", lang, {"choices": choices, "selected": selected, "notice": notice}
    )


def create_report_card(
    lang: str,
    site: Site,
    submission_id: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    last: RecordedReport | None = None,
    zone: ZoneInfo,
    now: datetime,
) -> dict:
    """Render the report form for `site`.

    Args:
        values: input values to show: the user's own after a rejection, else the
            site's last report, else the defaults of a first report.
        errors: field name -> locale message key, shown beside each field.
        last: the site's last report, named at the top of the form.
    """
    words = strings(lang)
    values = dict(values or _defaults(site))
    shown_errors = {name: words[key] for name, key in (errors or {}).items()}

    if last is not None:
        when = f"{format_time(last.received_at, zone, lang)} ({format_age(now - last.received_at, lang)})"
        history = text(lang, "report_last", when=when, name=last.reporter.name or "-")
    else:
        history = words["report_first"]

    counts = [
        _count_input(words, "evacuees", values, shown_errors, required=True),
        _count_input(words, "households", values, shown_errors, required=True),
        _count_input(words, "care_needed", values, shown_errors, required=False),
        _count_input(words, "capacity", values, shown_errors, required=False, minimum=1),
    ]
    lifelines = [
        _choice_input(words, f"lifeline_{name}", values, shown_errors) for name in LIFELINES
    ]
    supplies = [_choice_input(words, f"supply_{name}", values, shown_errors) for name in SUPPLIES]

    return render(
        "report",
        lang,
        {
            "site_id": site.id,
            "site_name": _site_title(site, lang),
            "submission_id": submission_id,
            "history": history,
            "values": values,
            "errors": shown_errors,
            "status_choices": choices(words, "status", ShelterStatus),
            "lifeline_choices": choices(words, "level", Lifeline),
            "stock_choices": choices(words, "stock", SupplyLevel),
            "count_rows": _pairs(counts),
            "lifeline_rows": _pairs(lifelines),
            "supply_rows": _pairs(supplies),
        },
    )


def create_report_saved_card(
    lang: str, site: Site, record: RecordedReport, *, zone: ZoneInfo
) -> dict:
    """Render the confirmation that replaces the form once a report is recorded."""
    summary = text(
        lang,
        "saved_text",
        site=_site_title(site, lang),
        when=format_time(record.received_at, zone, lang),
    )
    return render(
        "report_saved",
        lang,
        {"summary": summary, "facts": report_facts(lang, site, record), "site_id": site.id},
    )


def create_report_view_card(
    lang: str,
    site: Site | None,
    record: RecordedReport | None,
    *,
    zone: ZoneInfo,
    newer: RecordedReport | None = None,
) -> dict:
    """Render one recorded report, as opened from an alert; say so when a newer one exists.

    Args:
        site: the report's site; None with `record` None renders "cannot be found".
        newer: the site's latest report when it is not `record`.
    """
    if record is None or site is None:
        return render("report_view", lang, {"summary": "", "facts": [], "newer": ""})
    summary = text(
        lang,
        "report_view_summary",
        site=_site_title(site, lang),
        when=format_time(record.received_at, zone, lang),
        name=record.reporter.name or "-",
    )
    notice = ""
    if newer is not None and newer.id != record.id:
        notice = text(lang, "report_view_newer", when=format_time(newer.received_at, zone, lang))
    return render(
        "report_view",
        lang,
        {
            "summary": summary,
            "facts": report_facts(lang, site, record),
            "newer": notice,
            "site_id": site.id,
        },
    )


def report_facts(lang: str, site: Site, record: RecordedReport) -> list[dict]:
    """Return a report as FactSet facts: status, people, capacity, shortages, needs."""
    words = strings(lang)
    report = record.report
    capacity = report.capacity or site.capacity
    people = text(
        lang,
        "saved_evacuees",
        evacuees=report.evacuees,
        households=report.households,
        care=report.care_needed,
    )
    facts = [
        {"title": words["field_status"], "value": words[f"status_{report.status.value}"]},
        {"title": words["field_evacuees"], "value": people},
    ]
    if capacity:
        use = format_percent(report.evacuees / capacity)
        facts.append(
            {
                "title": words["field_capacity"],
                "value": text(
                    lang, "saved_capacity", evacuees=report.evacuees, capacity=capacity, use=use
                ),
            }
        )
    short = [
        f"{words[f'supply_{name}']} ({words[f'stock_{level.value}']})"
        for name, level in report.supplies.items()
        if level is not SupplyLevel.OK
    ]
    if short:
        facts.append({"title": words["field_supplies"], "value": words["list_separator"].join(short)})
    down = [
        f"{words[f'lifeline_{name}']} ({words[f'level_{level.value}']})"
        for name, level in report.lifelines.items()
        if level is not Lifeline.OK
    ]
    if down:
        facts.append({"title": words["field_lifelines"], "value": words["list_separator"].join(down)})
    if report.needs:
        facts.append({"title": words["field_needs"], "value": report.needs})
    return facts


def _site_title(site: Site, lang: str) -> str:
    return site.name(lang)


def _defaults(site: Site) -> dict[str, str]:
    # The counts start empty, not 0: a first form sent unchanged must not record an open
    # shelter with nobody in it; the required fields ask for the real numbers.
    values = {"status": ShelterStatus.OPEN.value}
    if site.capacity:
        values["capacity"] = str(site.capacity)
    values.update({f"lifeline_{name}": Lifeline.OK.value for name in LIFELINES})
    values.update({f"supply_{name}": SupplyLevel.OK.value for name in SUPPLIES})
    return values


def _count_input(words, name, values, errors, *, required: bool, minimum: int = 0) -> dict:
    return {
        "id": name,
        "label": words[f"field_{name}"],
        "min": minimum,
        "required": required,
        "hint": words["error_required"] if required else words["error_not_whole"],
        "value": _number(values.get(name)),
        "error": errors.get(name),
    }


def _choice_input(words, name, values, errors) -> dict:
    return {
        "id": name,
        "label": words[name],
        "value": values.get(name, ""),
        "error": errors.get(name),
    }


def _pairs(items: list[dict]) -> list[dict]:
    """Group inputs two to a row: two compact inputs side by side fit a phone screen."""
    return [{"columns": items[index : index + 2]} for index in range(0, len(items), 2)]


def _number(raw: str | None) -> int | float | None:
    # Input.Number only holds numbers; text that is not one cannot have come from it.
    try:
        number = float(str(raw).replace(",", ""))
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() else number
