"""The board computed from the latest reports (bot.board)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.board import Congestion, Urgency, compute_board, congestion_of
from bot.cards.board import create_board_card
from bot.model import SUPPLIES, ShelterStatus, Site, SupplyLevel
from tests.support.samples import NOW, sample_report

SITES = [
    Site("A", "A小学校", capacity=100),
    Site("B", "B中学校", capacity=200),
    Site("C", "C公民館", capacity=50),
    Site("D", "D体育館", capacity=None),
    Site("E", "E会館", capacity=80),
]
HOURS_3 = timedelta(hours=3)


def report(site, **changes):
    return sample_report(site, 0, **changes)


def test_totals_count_open_and_full_shelters_only():
    latest = {
        "A": report(SITES[0], evacuees=60, households=20, care_needed=3),
        "B": report(SITES[1], status=ShelterStatus.FULL, evacuees=200, households=70, care_needed=9),
        "C": report(SITES[2], status=ShelterStatus.CLOSED, evacuees=0, households=0, care_needed=0),
    }
    totals = compute_board(SITES, latest, NOW, HOURS_3).totals

    assert totals.open_shelters == 2
    assert totals.full_shelters == 1
    assert (totals.evacuees, totals.households, totals.care_needed) == (260, 90, 12)
    assert totals.capacity == 300
    assert round(totals.capacity_use, 3) == round(260 / 300, 3)
    assert totals.reported_sites == 3


def test_reported_capacity_overrides_the_registry():
    latest = {"A": report(SITES[0], evacuees=90, households=30, care_needed=0, capacity=300)}
    row = compute_board(SITES, latest, NOW, HOURS_3).rows[0]
    assert row.capacity == 300 and row.congestion is Congestion.AVAILABLE


def test_full_and_out_of_supply_sites_come_first_then_stale_then_the_rest():
    out = {name: SupplyLevel.OK for name in SUPPLIES} | {"food": SupplyLevel.OUT}
    low = {name: SupplyLevel.OK for name in SUPPLIES} | {"blankets": SupplyLevel.LOW}
    latest = {
        "A": report(SITES[0], evacuees=10, households=5, care_needed=0),
        "B": report(SITES[1], evacuees=10, households=5, care_needed=0, supplies=low),
        "C": report(SITES[2], evacuees=10, households=5, care_needed=0, supplies=out),
        "E": report(SITES[4], evacuees=10, households=5, care_needed=0),
    }
    stale = latest["E"]
    latest["E"] = type(stale)(
        stale.id, stale.submission_id, stale.report, stale.reporter, NOW - timedelta(hours=5)
    )
    board = compute_board(SITES, latest, NOW, HOURS_3)

    assert [row.site.id for row in board.rows] == ["C", "E", "B", "A", "D"]
    assert [row.urgency for row in board.rows] == [
        Urgency.CRITICAL,
        Urgency.STALE,
        Urgency.WARNING,
        Urgency.NORMAL,
        Urgency.UNREPORTED,
    ]
    assert board.rows[1].stale and board.rows[1].age == timedelta(hours=5)
    assert board.rows[0].short_supplies == ("food",)
    assert board.totals.stale_sites == 1 and board.totals.critical_sites == 1


def test_closed_shelter_is_never_stale():
    latest = {"A": report(SITES[0], status=ShelterStatus.CLOSED, evacuees=0, households=0, care_needed=0)}
    old = latest["A"]
    latest["A"] = type(old)(old.id, old.submission_id, old.report, old.reporter, NOW - timedelta(days=2))
    assert not compute_board(SITES, latest, NOW, HOURS_3).rows[0].stale


def test_unreported_sites_are_listed_last():
    board = compute_board(SITES, {"D": report(SITES[3], evacuees=5, households=2, care_needed=0)}, NOW, HOURS_3)
    assert board.rows[0].site.id == "D"
    assert len(board.unreported_rows) == 4 and len(board.reported_rows) == 1


def test_congestion_levels_follow_capacity_use():
    assert congestion_of(ShelterStatus.OPEN, 0.2) is Congestion.AVAILABLE
    assert congestion_of(ShelterStatus.OPEN, 0.5) is Congestion.SOMEWHAT_CROWDED
    assert congestion_of(ShelterStatus.OPEN, 0.8) is Congestion.CROWDED
    assert congestion_of(ShelterStatus.FULL, 0.1) is Congestion.CROWDED
    assert congestion_of(ShelterStatus.OPEN, None) is Congestion.UNKNOWN
    assert congestion_of(ShelterStatus.CLOSED, 0.9) is Congestion.CLOSED
    assert congestion_of(ShelterStatus.PREPARING, None) is Congestion.PREPARING


def test_a_stale_rows_age_is_readable_on_its_coloured_row():
    fresh = report(SITES[0], evacuees=60, households=20, care_needed=3)
    old = report(SITES[1], evacuees=50, households=20, care_needed=3)
    old = type(old)(old.id, old.submission_id, old.report, old.reporter, NOW - timedelta(hours=5))
    board = compute_board(SITES, {"A": fresh, "B": old}, NOW, HOURS_3)
    card = create_board_card("en", board, zone=ZoneInfo("Asia/Tokyo"))

    rows = {}
    for container in card["body"]:
        if container.get("type") == "Container" and container.get("style"):
            name_column, age_column = container["items"][0]["columns"]
            rows[name_column["items"][0]["text"]] = (container["style"], age_column["items"][0])

    style, age = rows["B中学校"]
    assert style == "warning" and age["text"] == "5 h 0 min ago"
    assert age.get("color", "Default") == "Default" and age["weight"] == "Bolder"
    assert age["isSubtle"] is False
    assert rows["A小学校"][1]["isSubtle"] is True
