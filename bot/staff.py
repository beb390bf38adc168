"""Staff safety check-ins (安否・参集確認) and the attendance tally. Pure: no I/O.

After an earthquake every member of staff tells HQ whether they are safe, where they
are, and whether they can come to work. `parse_check_in` validates a check-in card
submission the way model.py validates a shelter report; `tally` counts the latest
check-in of each person for the board.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from bot.model import Rejection, Reporter, parse_choice

MAX_NOTE_LENGTH = 300
# An arrival time this far behind the check-in is read as the same day, running late;
# further back it means the next day (checked in at 23:30, arriving 01:00).
LATE_ARRIVAL = timedelta(hours=2)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?$")


class Safety(str, Enum):
    SAFE = "safe"
    INJURED = "injured"
    NEED_HELP = "need_help"


class Whereabouts(str, Enum):
    HOME = "home"
    SHELTER = "shelter"
    CITY_HALL = "city_hall"
    WARD_OFFICE = "ward_office"
    ON_THE_WAY = "on_the_way"
    OTHER = "other"


class Availability(str, Enum):
    NOW = "now"
    LATER = "later"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class CheckIn:
    """One person's safety and attendance, as they told it.

    Attributes:
        arrival: expected arrival at their post as "HH:MM" local time; empty when they
            are already there or cannot come.
    """

    safety: Safety
    whereabouts: Whereabouts
    availability: Availability
    arrival: str = ""
    note: str = ""

    def to_fields(self) -> dict[str, str]:
        """Return the check-in as card input values (the inverse of parse_check_in)."""
        return {
            "safety": self.safety.value,
            "whereabouts": self.whereabouts.value,
            "availability": self.availability.value,
            "arrival": self.arrival,
            "note": self.note,
        }


@dataclass(frozen=True)
class RecordedCheckIn:
    """A check-in as the journal holds it."""

    id: int
    submission_id: str
    check_in: CheckIn
    reporter: Reporter
    received_at: datetime


def parse_check_in(values: Mapping[str, object]) -> CheckIn | Rejection:
    """Validate a check-in card submission.

    Returns:
        The check-in, or a Rejection naming every bad field with a locale message key.
    """
    rejection = Rejection()
    text = {k: ("" if v is None else str(v)).strip() for k, v in values.items()}

    safety = parse_choice(text, "safety", Safety, rejection)
    whereabouts = parse_choice(text, "whereabouts", Whereabouts, rejection)
    availability = parse_choice(text, "availability", Availability, rejection)

    arrival = text.get("arrival", "")
    if arrival:
        match = _TIME.match(arrival)
        if match is None:
            rejection.add("arrival", "error_time")
        else:
            arrival = f"{int(match.group(1)):02d}:{match.group(2)}"
    if availability is Availability.UNAVAILABLE:
        arrival = ""

    note = text.get("note", "")
    if len(note) > MAX_NOTE_LENGTH:
        rejection.add("note", "error_note_too_long")
    if safety is Safety.NEED_HELP and not note:
        # HQ cannot send help without knowing what is wrong and where.
        rejection.add("note", "error_need_help_note")

    if rejection:
        return rejection
    return CheckIn(safety, whereabouts, availability, arrival, note)


@dataclass(frozen=True)
class Attendance:
    """The latest check-in of every person who checked in, counted for HQ.

    Attributes:
        need_help: the people who asked for help, most recent first.
    """

    checked_in: int
    safe: int
    injured: int
    need_help: tuple[RecordedCheckIn, ...]
    available_now: int
    available_later: int
    unavailable: int


def tally(latest: Iterable[RecordedCheckIn]) -> Attendance:
    """Count the latest check-ins, one per person."""
    records = list(latest)
    by_safety = {safety: 0 for safety in Safety}
    by_availability = {availability: 0 for availability in Availability}
    for record in records:
        by_safety[record.check_in.safety] += 1
        by_availability[record.check_in.availability] += 1
    need_help = sorted(
        (r for r in records if r.check_in.safety is Safety.NEED_HELP),
        key=lambda record: record.received_at,
        reverse=True,
    )
    return Attendance(
        checked_in=len(records),
        safe=by_safety[Safety.SAFE],
        injured=by_safety[Safety.INJURED],
        need_help=tuple(need_help),
        available_now=by_availability[Availability.NOW],
        available_later=by_availability[Availability.LATER],
        unavailable=by_availability[Availability.UNAVAILABLE],
    )


def asks_for_help(before: CheckIn | None, after: CheckIn) -> bool:
    """Return True when `after` moves a person into needing help (an alert for HQ)."""
    return after.safety is Safety.NEED_HELP and (
        before is None or before.safety is not Safety.NEED_HELP
    )


def arrival_moment(arrival: str, received_at: datetime, zone: ZoneInfo) -> datetime | None:
    """Return the "HH:MM" arrival time as an aware moment, or None when there is none.

    The time is local to the person (`zone`), on the day of the check-in unless that
    would put it more than LATE_ARRIVAL before the check-in, then on the next day.
    """
    if not arrival:
        return None
    hours, minutes = (int(part) for part in arrival.split(":")[:2])
    local = received_at.astimezone(zone)
    moment = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if moment < local - LATE_ARRIVAL:
        moment += timedelta(days=1)
    return moment
