"""Supply requests as a pure domain: validation and who may move a request where."""

from __future__ import annotations

import pytest

from bot.graph.rows import list_row
from bot.model import Rejection, Site
from bot.store.sqlite_requests import request_fields
from bot.supplies import (
    HQ_MOVES,
    MOVES,
    Priority,
    RequestState,
    SupplyRequest,
    check_move,
    parse_supply_request,
)
from tests.support.samples import sample_requests

SITES = {"S001": Site("S001", "中央小学校", "Chuo Elementary School")}


def test_valid_request_is_parsed():
    parsed = parse_supply_request(
        {"site_id": "S001", "items": " 毛布 100枚\n水 200本 ", "priority": "urgent"}, SITES
    )
    assert parsed == SupplyRequest("S001", "毛布 100枚\n水 200本", Priority.URGENT)
    assert parse_supply_request(parsed.to_fields(), SITES) == parsed


@pytest.mark.parametrize(
    "field, raw, key",
    [
        ("site_id", "", "error_required"),
        ("site_id", "S999", "error_unknown_site"),
        ("items", "", "error_items_required"),
        ("items", "あ" * 1001, "error_items_too_long"),
        ("priority", "", "error_required"),
        ("priority", "yesterday", "error_choice"),
    ],
)
def test_bad_field_is_named_with_its_message(field, raw, key):
    values = {"site_id": "S001", "items": "毛布 100枚", "priority": "normal", field: raw}
    parsed = parse_supply_request(values, SITES)
    assert isinstance(parsed, Rejection)
    assert parsed.errors == {field: key}


def test_hq_may_approve_dispatch_and_cancel_and_anyone_may_confirm_delivery():
    assert check_move(RequestState.REQUESTED, RequestState.APPROVED, hq=True) is None
    assert check_move(RequestState.REQUESTED, RequestState.APPROVED, hq=False) == "request_hq_only"
    assert check_move(RequestState.DISPATCHED, RequestState.DELIVERED, hq=False) is None
    assert check_move(RequestState.APPROVED, RequestState.CANCELLED, hq=False) == "request_hq_only"


@pytest.mark.parametrize("current", list(RequestState))
@pytest.mark.parametrize("target", list(RequestState))
def test_only_the_lifecycles_moves_are_allowed(current, target):
    refused = check_move(current, target, hq=True)
    if target is current:
        assert refused == "request_already"
    elif target in MOVES[current]:
        assert refused is None
    else:
        assert refused == "request_move_invalid"


def test_finished_requests_cannot_move_and_only_delivery_is_not_hqs_alone():
    assert MOVES[RequestState.DELIVERED] == MOVES[RequestState.CANCELLED] == ()
    assert RequestState.DELIVERED not in HQ_MOVES


@pytest.mark.parametrize("index", range(3))
def test_every_request_fits_the_supply_requests_list_columns(index):
    record = sample_requests(list(SITES.values()) * 5)[index]
    schema, fields = list_row("supply_requests", f"request-{record.id}", request_fields(record))
    assert schema.key == "supply_requests"
    assert fields["State"] in ("要請中", "承認済み", "発送済み")
    assert fields["Priority"] in ("至急", "通常")
