"""Staff check-ins as a pure domain: validation, the attendance tally, arrival times."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.graph.rows import list_row
from bot.model import Rejection
from bot.staff import (
    Availability,
    CheckIn,
    Safety,
    Whereabouts,
    arrival_moment,
    asks_for_help,
    parse_check_in,
    tally,
)
from bot.store.sqlite_checkins import check_in_fields
from tests.support.samples import sample_check_ins

TOKYO = ZoneInfo("Asia/Tokyo")


def values(**changes) -> dict:
    base = {"safety": "safe", "whereabouts": "home", "availability": "later", "arrival": "9:30"}
    return {**base, **changes}


def test_valid_check_in_is_parsed_with_a_normalised_arrival_time():
    parsed = parse_check_in(values(note=" 子どもを預けてから向かいます "))
    assert parsed == CheckIn(
        Safety.SAFE, Whereabouts.HOME, Availability.LATER, "09:30", "子どもを預けてから向かいます"
    )


def test_check_in_round_trips_through_card_values():
    parsed = parse_check_in(values())
    assert parse_check_in(parsed.to_fields()) == parsed


@pytest.mark.parametrize(
    "field, raw, key",
    [
        ("safety", "", "error_required"),
        ("safety", "fine", "error_choice"),
        ("whereabouts", "", "error_required"),
        ("whereabouts", "moon", "error_choice"),
        ("availability", "", "error_required"),
        ("arrival", "25:00", "error_time"),
        ("arrival", "soon", "error_time"),
        ("note", "あ" * 301, "error_note_too_long"),
    ],
)
def test_bad_field_is_named_with_its_message(field, raw, key):
    parsed = parse_check_in(values(**{field: raw}))
    assert isinstance(parsed, Rejection)
    assert parsed.errors[field] == key


def test_asking_for_help_needs_a_note_saying_what_and_where():
    parsed = parse_check_in(values(safety="need_help", note=""))
    assert parsed.errors == {"note": "error_need_help_note"}


def test_someone_who_cannot_come_has_no_arrival_time():
    parsed = parse_check_in(values(availability="unavailable", arrival="10:00"))
    assert parsed.arrival == ""


def test_tally_counts_each_person_once_and_lists_who_needs_help_newest_first():
    records = sample_check_ins(60)
    attendance = tally(records)
    assert attendance.checked_in == 60
    assert attendance.safe + attendance.injured + len(attendance.need_help) == 60
    assert attendance.available_now + attendance.available_later + attendance.unavailable == 60
    newest_first = ["checkin-5", "checkin-28", "checkin-51"]
    assert [r.submission_id for r in attendance.need_help] == newest_first


def test_only_a_move_into_needing_help_asks_for_help():
    safe = parse_check_in(values())
    helpless = parse_check_in(values(safety="need_help", note="足を骨折しました"))
    assert asks_for_help(None, helpless)
    assert asks_for_help(safe, helpless)
    assert not asks_for_help(helpless, helpless)
    assert not asks_for_help(helpless, safe)


@pytest.mark.parametrize(
    "checked_in_local, arrival, expected_local",
    [
        ("2026-09-01T07:10", "09:30", "2026-09-01T09:30"),
        ("2026-09-01T09:50", "09:00", "2026-09-01T09:00"),  # running a little late
        ("2026-09-01T23:30", "01:00", "2026-09-02T01:00"),  # after midnight
    ],
)
def test_arrival_time_is_read_in_the_persons_zone(checked_in_local, arrival, expected_local):
    local = datetime.fromisoformat(checked_in_local).replace(tzinfo=TOKYO)
    received = local.astimezone(timezone.utc)
    moment = arrival_moment(arrival, received, TOKYO)
    assert moment.astimezone(TOKYO).replace(tzinfo=None) == datetime.fromisoformat(expected_local)
    assert arrival_moment("", received, TOKYO) is None


@pytest.mark.parametrize("safety", list(Safety))
@pytest.mark.parametrize("whereabouts", list(Whereabouts))
def test_every_check_in_fits_the_check_ins_list_columns(safety, whereabouts):
    (record,) = sample_check_ins(1)
    changed = replace(record.check_in, safety=safety, whereabouts=whereabouts)
    record = replace(record, check_in=changed)
    arrival = record.received_at + timedelta(hours=1)
    schema, fields = list_row("checkins", "staff-aad-1", check_in_fields(record, arrival))
    assert schema.key == "checkins"
    assert fields["Key"] == "staff-aad-1"
    assert fields["Safe"] is (safety is Safety.SAFE)
    assert fields["ExpectedArrival"].endswith("Z")
