"""The list definitions: ASCII internal names, Japanese display names, and value translation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from bot.graph.lists import (
    LIFELINE_NAMES,
    LISTS,
    SITES_BOARD,
    SUPPLY_NAMES,
    SUPPLY_REQUESTS,
    ColumnType,
    lifeline_column,
    supply_column,
)
from bot.model import LIFELINES, SUPPLIES, ShelterStatus

ASCII_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,31}$")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("schema", LISTS, ids=lambda schema: schema.key)
def test_every_list_has_ascii_names_japanese_titles_and_an_idempotency_key(schema):
    assert ASCII_NAME.match(schema.name) and JAPANESE.search(schema.display_name)
    names = [column.name for column in schema.columns]
    assert len(names) == len(set(names))
    assert all(ASCII_NAME.match(name) for name in names)
    assert all(JAPANESE.search(column.display_name) for column in schema.columns)

    key = schema.column("Key")
    assert key.type is ColumnType.TEXT and key.indexed and key.unique


def test_list_names_and_titles_are_distinct():
    assert len({s.name for s in LISTS}) == len({s.display_name for s in LISTS}) == len(LISTS)


def test_every_lifeline_and_supply_has_a_japanese_column_on_the_board():
    assert set(LIFELINE_NAMES) == set(LIFELINES) and set(SUPPLY_NAMES) == set(SUPPLIES)
    for name in LIFELINES:
        assert SITES_BOARD.column(lifeline_column(name)).display_name == LIFELINE_NAMES[name]
    for name in SUPPLIES:
        assert SITES_BOARD.column(supply_column(name)).display_name == SUPPLY_NAMES[name]


def test_choice_codes_become_japanese_labels_and_back():
    status = SITES_BOARD.column("Status")

    assert status.to_graph(ShelterStatus.FULL) == "満員"
    assert status.to_graph("open") == "開設中"
    assert status.from_graph("満員") == "full"
    with pytest.raises(ValueError, match="'unknown' is not one of"):
        status.to_graph("unknown")


def test_fields_translate_both_ways_and_ignore_sharepoints_own_fields():
    at = datetime(2025, 1, 17, 14, 46, tzinfo=timezone(timedelta(hours=9)))
    values = {"Title": "第一小学校", "State": "dispatched", "RequestedAt": at, "Items": "水 20"}

    fields = SUPPLY_REQUESTS.to_graph_fields(values)
    back = SUPPLY_REQUESTS.from_graph_fields({**fields, "Modified": "x", "id": "7"})

    assert fields["State"] == "発送済み"
    assert fields["RequestedAt"] == "2025-01-17T05:46:00Z"
    assert back == {"State": "dispatched", "RequestedAt": at, "Items": "水 20"}


def test_hq_can_edit_the_supply_request_state():
    assert SUPPLY_REQUESTS.column("State").editable
    assert not SUPPLY_REQUESTS.column("Key").editable
