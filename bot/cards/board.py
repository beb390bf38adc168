"""Builder of the board card: totals first, then one row per site, most urgent first.

Hundreds of sites do not fit a card (Teams caps a message near 100 KB and a phone
screen far sooner), so rows are paged and never-reported sites are only counted.

Every board card carries an Adaptive Card refresh (verb `board_refresh`), so a card
opened long after its last update shows the current board.
NOTE: Teams runs a refresh only for the user ids listed in `refresh.userIds` (at most
60) in chats and channels, and only on a card older than about a minute.
"""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from bot.board import Board, SiteRow, Urgency
from bot.staff import Attendance
from bot.supplies import RecordedRequest, RequestState
from bot.cards.fields import clip
from bot.cards.render import render
from bot.locales import format_age, format_duration, format_percent, format_time, strings, text

PAGE_SIZE = 20
# People who asked for help, named on the board up to this many (the rest counted).
HELP_NAMES = 10
MAX_REFRESH_USERS = 60
ROW_STYLES = {
    Urgency.CRITICAL: "attention",
    Urgency.STALE: "warning",
    Urgency.WARNING: "emphasis",
    Urgency.NORMAL: "default",
}


def create_board_card(
    lang: str,
    board: Board,
    *,
    zone: ZoneInfo,
    page: int = 1,
    refresh_users: list[str] | tuple[str, ...] = (),
    live: bool = False,
    names: bool = False,
) -> dict:
    """Render the board card, page `page` (1-based) of the reported sites.

    Args:
        refresh_users: Teams user ids whose copy refreshes itself when opened.
        live: the card is a registered board that the bot keeps up to date.
        names: name the staff who asked for help (for HQ's eyes only); else count them.
    """
    words = strings(lang)
    totals = board.totals
    rows = board.reported_rows
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]

    facts = [
        (words["board_open"], f"{totals.open_shelters}"),
        (words["board_evacuees"], f"{totals.evacuees:,}"),
        (words["board_households"], f"{totals.households:,}"),
        (words["board_care_needed"], f"{totals.care_needed:,}"),
        (words["board_capacity_use"], format_percent(totals.capacity_use)),
        (words["board_reported"], f"{totals.reported_sites} / {len(board.rows)}"),
    ]
    if board.open_requests:
        facts.append((words["board_requests"], _request_counts(board.open_requests, lang)))
    per_site = Counter(record.request.site_id for record in board.open_requests)
    needing = totals.critical_sites + totals.stale_sites
    paging = []
    if page > 1:
        paging.append({"title": words["board_previous"], "page": page - 1})
    if page < pages:
        paging.append({"title": words["board_next"], "page": page + 1})

    return render(
        "board",
        lang,
        {
            "as_of": text(lang, "board_as_of", when=format_time(board.generated_at, zone, lang)),
            "totals": [{"title": title, "value": value} for title, value in facts],
            "empty": not rows,
            "attention": f"{words['board_attention']}: {needing}" if needing else "",
            "rows": [_row(row, lang, words, per_site[row.site.id]) for row in shown],
            "unreported": text(lang, "board_unreported", count=len(board.unreported_rows))
            if board.unreported_rows
            else "",
            **_attendance(board.attendance, lang, words, zone, names),
            "page": page,
            "page_label": text(lang, "board_page", page=page, pages=pages) if pages > 1 else "",
            "paging": paging,
            "live": live,
            "refresh_users": list(refresh_users)[:MAX_REFRESH_USERS] or None,
        },
    )


def _attendance(
    attendance: Attendance | None, lang: str, words: dict[str, str], zone: ZoneInfo, names: bool
) -> dict:
    """Return the staff check-in tally as facts, and who needs help when `names`."""
    if attendance is None or not attendance.checked_in:
        return {"attendance": None, "help_people": ""}
    facts = [
        (words["board_staff_checked_in"], f"{attendance.checked_in:,}"),
        (
            words["board_staff_safety"],
            text(
                lang,
                "board_staff_safety_value",
                safe=attendance.safe,
                injured=attendance.injured,
                help=len(attendance.need_help),
            ),
        ),
        (
            words["board_staff_available"],
            text(
                lang,
                "board_staff_available_value",
                now=attendance.available_now,
                later=attendance.available_later,
                unavailable=attendance.unavailable,
            ),
        ),
    ]
    people = ""
    if names and attendance.need_help:
        listed = [
            text(
                lang,
                "board_help_person",
                name=record.reporter.name or "-",
                where=words[f"whereabouts_{record.check_in.whereabouts.value}"],
                when=format_time(record.received_at, zone, lang),
                note=clip(record.check_in.note, 60),
            )
            for record in attendance.need_help[:HELP_NAMES]
        ]
        hidden = len(attendance.need_help) - HELP_NAMES
        if hidden > 0:
            listed.append(text(lang, "board_help_more", count=hidden))
        people = "\n\n".join(listed)
    return {
        "attendance": [{"title": title, "value": value} for title, value in facts],
        "help_people": people,
    }


def _request_counts(records: tuple[RecordedRequest, ...], lang: str) -> str:
    counted = Counter(record.state for record in records)
    return text(
        lang,
        "board_requests_value",
        requested=counted[RequestState.REQUESTED],
        approved=counted[RequestState.APPROVED],
        dispatched=counted[RequestState.DISPATCHED],
    )


def _row(row: SiteRow, lang: str, words: dict[str, str], open_requests: int = 0) -> dict:
    report = row.latest.report
    if row.capacity:
        people = text(
            lang,
            "board_people_capacity",
            evacuees=f"{report.evacuees:,}",
            capacity=f"{row.capacity:,}",
            use=format_percent(row.use),
        )
    else:
        people = text(lang, "board_people", evacuees=f"{report.evacuees:,}")
    detail = " · ".join(
        [words[f"status_{report.status.value}"], people, words[f"congestion_{row.congestion.value}"]]
    )

    notes = []
    if row.stale:
        notes.append(text(lang, "board_stale", age=format_duration(row.age, lang)))
    if row.short_supplies:
        items = [
            f"{words[f'supply_{name}']}({words[f'stock_{report.supplies[name].value}']})"
            for name in row.short_supplies
        ]
        notes.append(text(lang, "board_short", items=words["list_separator"].join(items)))
    if report.needs:
        notes.append(text(lang, "board_needs", text=clip(report.needs, 80)))
    if open_requests:
        notes.append(text(lang, "board_site_requests", count=open_requests))

    return {
        "name": row.site.name(lang),
        "age": format_age(row.age, lang),
        # A stale row's container is coloured already: its age stands out by weight, in
        # the container's own readable text colour (orange on orange could not be read).
        "age_subtle": not row.stale,
        "age_weight": "Bolder" if row.stale else "Default",
        "detail": detail,
        "notes": "\n\n".join(notes),
        "style": ROW_STYLES[row.urgency],
    }
