"""Validation of shelter report submissions (bot.model)."""

from __future__ import annotations

import pytest

from bot.model import (
    LIFELINES,
    MAX_NEEDS_LENGTH,
    SUPPLIES,
    Rejection,
    ShelterReport,
    ShelterStatus,
    Site,
    SupplyLevel,
    parse_shelter_report,
)

SITES = {"S001": Site("S001", "中央小学校", "Chuo Elementary School", capacity=400)}


def values(**changes):
    base = {
        "site_id": "S001",
        "status": "open",
        "evacuees": "120",
        "households": "40",
        "care_needed": "5",
        "capacity": "",
        "needs": "  毛布 ",
    }
    base.update({f"lifeline_{n}": "ok" for n in LIFELINES})
    base.update({f"supply_{n}": "ok" for n in SUPPLIES})
    base.update(changes)
    return base


def errors(**changes) -> dict[str, str]:
    result = parse_shelter_report(values(**changes), SITES)
    assert isinstance(result, Rejection)
    return result.errors


def test_valid_submission_becomes_a_report():
    report = parse_shelter_report(values(supply_water="out"), SITES)
    assert isinstance(report, ShelterReport)
    assert report.status is ShelterStatus.OPEN
    assert report.evacuees == 120 and report.capacity is None
    assert report.needs == "毛布"
    assert report.worst_supply() is SupplyLevel.OUT


def test_report_round_trips_through_card_values():
    report = parse_shelter_report(values(capacity="500", supply_food="low"), SITES)
    assert parse_shelter_report(report.to_fields(), SITES) == report


@pytest.mark.parametrize(
    "field, raw, key",
    [
        ("evacuees", "", "error_required"),
        ("evacuees", "abc", "error_not_number"),
        ("evacuees", "12.5", "error_not_whole"),
        ("evacuees", "-1", "error_negative"),
        ("evacuees", "100001", "error_too_large"),
        ("evacuees", "nan", "error_not_whole"),
        ("households", "", "error_required"),
        ("households", "121", "error_households_exceed"),
        ("care_needed", "121", "error_care_exceed"),
        ("capacity", "0", "error_capacity_min"),
        ("status", "", "error_required"),
        ("status", "opened", "error_choice"),
        ("supply_water", "plenty", "error_choice"),
        ("lifeline_gas", "", "error_required"),
        ("site_id", "", "error_required"),
        ("site_id", "S999", "error_unknown_site"),
        ("needs", "x" * (MAX_NEEDS_LENGTH + 1), "error_too_long"),
    ],
)
def test_bad_field_is_named_with_its_message(field, raw, key):
    assert errors(**{field: raw})[field] == key


def test_every_bad_field_is_reported_at_once():
    found = errors(evacuees="x", status="?", supply_food="", needs="y" * 600)
    assert set(found) == {"evacuees", "status", "supply_food", "needs"}


def test_whole_numbers_written_with_separators_or_decimals_are_accepted():
    report = parse_shelter_report(values(evacuees="1,200", households="300.0"), SITES)
    assert (report.evacuees, report.households) == (1200, 300)


def test_optional_counts_may_be_empty():
    report = parse_shelter_report(values(care_needed="", capacity=""), SITES)
    assert report.care_needed == 0 and report.capacity is None


def test_site_name_falls_back_to_the_other_language():
    assert Site("X", "東公民館").name("en") == "東公民館"
    assert Site("X", "", "East Hall").name("ja") == "East Hall"
