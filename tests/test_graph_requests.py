"""Check-ins and supply requests in their SharePoint lists, and HQ's edits of requests.

The real app on loopback on a manual clock, the real msgraph-sdk client and the
Graph-compatible server of tests/graph_server, as in test_graph_app.py.
"""

from __future__ import annotations

import pytest

from bot.graph.provision import provision
from tests.test_checkins import TANAKA, check_in
from tests.test_graph_app import HQ_EDITOR, clock, converge, poll_edits, start_mirrored
from tests.test_live_board import INTERVAL
from tests.test_scenarios import texts
from tests.test_supply_requests import PERSONAL, SMITH, request, rows

pytest_plugins = ["tests.graph_server.fixtures"]

__all__ = ["clock"]  # the manual clock of test_graph_app, ten minutes behind Graph's


@pytest.fixture
async def bot(start_bot, graph, graph_server):
    await provision(graph.client, graph_server.site_id)
    return await start_mirrored(
        start_bot, graph_server, hq_users=frozenset({SMITH.aad_object_id})
    )


def items(graph_server, list_ref: str) -> list[dict]:
    return graph_server.state.rows(graph_server.site_id, list_ref)


async def hq_moves(bot, state: str, note: str = "", action_id: str = "a1") -> str:
    """Press HQ's button for `state` on request #1 in Teams; return the answer's text."""
    data = {"request_id": "1", "state": state, "action_id": action_id, "hq_note": note}
    body = await bot.client.invoke("request_move", data, SMITH)
    return texts(body["value"])


def told(connector) -> list[str]:
    """Return the texts of the cards the requester received in their personal chat."""
    return [texts(card) for card in connector.cards(PERSONAL)]


# Rows reach their lists


async def test_a_check_in_lands_in_the_check_ins_list_once_per_person(bot, graph_server):
    await check_in(bot, TANAKA, whereabouts="home", availability="later", arrival="09:30")
    await converge(bot)

    (item,) = items(graph_server, "BcpCheckins")
    assert (item["Key"], item["StaffId"], item["StaffName"]) == (
        "staff-aad-tanaka", "aad-tanaka", "田中 健"
    )
    assert (item["Safety"], item["Safe"], item["Location"], item["Available"]) == (
        "無事", True, "自宅", True
    )
    assert item["ExpectedArrival"] and item["CheckedInAt"]

    await check_in(bot, TANAKA, whereabouts="on_the_way", availability="now", arrival="")
    await converge(bot)

    (item,) = items(graph_server, "BcpCheckins")
    assert (item["Key"], item["Location"], item["ExpectedArrival"]) == (
        "staff-aad-tanaka", "移動中", None
    )


async def test_a_request_approved_in_teams_lands_in_the_list_once_with_its_state(
    bot, graph_server
):
    await request(bot)
    await converge(bot)
    (item,) = items(graph_server, "BcpSupplyRequests")
    assert (item["Key"], item["SiteId"], item["State"], item["Priority"]) == (
        "request-1", "S001", "要請中", "至急"
    )
    assert (item["Items"], item["Requester"]) == ("毛布 100枚\n飲料水 200本", "小林 直子")

    await hq_moves(bot, "approved", note="明朝に発送予定")
    await converge(bot)

    (item,) = items(graph_server, "BcpSupplyRequests")
    assert (item["Key"], item["State"], item["UpdatedBy"], item["HqNote"]) == (
        "request-1", "承認済み", "Alex Smith", "明朝に発送予定"
    )
    assert item["RequestedAt"] and item["UpdatedAt"]
    assert await poll_edits(bot) == 0  # the bot's own writes are not edits


# HQ's edits of the Supply requests list


async def test_a_request_moved_in_the_list_behaves_as_the_teams_button_and_tells_the_requester(
    bot, graph_server, connector
):
    await request(bot)
    await converge(bot)

    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSupplyRequests", "request-1",
        {"State": "発送済み", "HqNote": "トラック2台、15時着"},
    )
    assert await poll_edits(bot) == 1

    assert rows(bot, "SELECT state FROM supply_requests") == [("dispatched",)]
    (event,) = rows(bot, "SELECT state, source FROM request_events WHERE source = 'lists'")
    assert event == ("dispatched", "lists")
    await bot.advance(INTERVAL)
    assert any("要請 #1 は「発送済み」になりました" in t and "15時着" in t for t in told(connector))

    await converge(bot)
    (item,) = items(graph_server, "BcpSupplyRequests")
    assert item["State"] == "発送済み"
    assert await poll_edits(bot) == 1  # the bot's own write is not a second move
    assert rows(bot, "SELECT COUNT(*) FROM request_events WHERE source = 'lists'") == [(1,)]


async def test_a_move_the_lifecycle_refuses_is_put_back_in_the_list_and_logged(
    bot, graph_server, caplog
):
    await request(bot)
    await converge(bot)
    graph_server.reset_records()

    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSupplyRequests", "request-1", {"State": "到着済み"}
    )
    with caplog.at_level("WARNING", logger="bot.graph.request_edits"):
        assert await poll_edits(bot) == 0

    assert rows(bot, "SELECT state FROM supply_requests") == [("requested",)]
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "bot.graph.request_edits"]
    assert "aad-hq-tanaka" in warning and "request_move_invalid" in warning
    await converge(bot)
    (item,) = items(graph_server, "BcpSupplyRequests")
    assert item["State"] == "要請中"
    (rewrite,) = [r for r in graph_server.flat_requests() if r.method == "PATCH"]
    assert rewrite.status == 200 and rewrite.headers.get("if-match")
    assert await poll_edits(bot) == 0  # the rewrite is the bot's own


async def test_edits_of_a_cancelled_request_are_refused_and_put_back(bot, graph_server):
    await request(bot)
    await hq_moves(bot, "cancelled", note="重複した要請")
    await converge(bot)

    for changes in ({"State": "承認済み"}, {"HqNote": "やはり必要"}):
        graph_server.state.edit_as(
            HQ_EDITOR, graph_server.site_id, "BcpSupplyRequests", "request-1", changes
        )
        assert await poll_edits(bot) == 0
        await converge(bot)

        (item,) = items(graph_server, "BcpSupplyRequests")
        assert (item["State"], item["HqNote"]) == ("取消し", "重複した要請")
    assert rows(bot, "SELECT state, note FROM supply_requests") == [("cancelled", "重複した要請")]
    assert rows(bot, "SELECT COUNT(*) FROM request_events WHERE source = 'lists'") == [(0,)]


async def test_an_hq_note_edited_alone_is_a_note_by_that_editor_and_the_requester_hears_it(
    bot, graph_server, connector
):
    await request(bot)
    await hq_moves(bot, "approved")
    await converge(bot)
    journal = bot.services.journal
    before = await journal.graph_write("supply_requests", "request-1")

    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSupplyRequests", "request-1",
        {"HqNote": "明日10時に届きます"},
    )
    assert await poll_edits(bot) == 1
    # A crash before the poll was saved: the same edit is read and applied again.
    await journal.save_graph_write("supply_requests", "request-1", before)
    await journal.set_graph_cursor("delta:supply_requests", None)
    assert await poll_edits(bot) == 1

    assert rows(bot, "SELECT state, note, updated_by FROM supply_requests") == [
        ("approved", "明日10時に届きます", "田中 本部")
    ]
    assert rows(
        bot, "SELECT state, note, actor_aad FROM request_events WHERE source = 'lists'"
    ) == [("approved", "明日10時に届きます", "aad-hq-tanaka")]
    await bot.advance(INTERVAL)
    assert any("明日10時に届きます" in t for t in told(connector))
    assert any("要請 #1（承認済み）に本部から連絡があります" in t for t in told(connector))

    await converge(bot)
    (item,) = items(graph_server, "BcpSupplyRequests")
    assert (item["State"], item["HqNote"], item["UpdatedBy"]) == (
        "承認済み", "明日10時に届きます", "田中 本部"
    )
    # Read again, as after an expired delta link: the bot's own write, not a second note.
    graph_server.state.expire_delta_tokens()
    assert await poll_edits(bot) == 1
    assert rows(bot, "SELECT COUNT(*) FROM request_events WHERE source = 'lists'") == [(1,)]


async def test_a_note_written_in_the_list_before_a_teams_move_does_not_replace_its_note(
    start_bot, graph_server, graph
):
    await provision(graph.client, graph_server.site_id)
    # Polls only when woken (or asked), so that the mirror meets HQ's edit first.
    bot = await start_mirrored(
        start_bot, graph_server, poll=24 * 3600, hq_users=frozenset({SMITH.aad_object_id})
    )
    await request(bot)
    await converge(bot)
    bot.clock.advance(20 * 60)

    # HQ writes a note in the list; before the poller sees it, HQ (ten minutes later by
    # the app's clock) approves the request in Teams with a note of its own.
    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSupplyRequests", "request-1",
        {"HqNote": "在庫確認中"},
    )
    await hq_moves(bot, "approved", note="明朝に発送")
    graph = await converge(bot, step=1)

    assert graph["parked"] == 0 and bot.services.graph.poller.edits == 0
    assert rows(bot, "SELECT state, note FROM supply_requests") == [("approved", "明朝に発送")]
    # Both notes are in the history, each at the time it was written.
    events = await bot.services.journal.request_events(1)
    history = [(event.state.value, event.note, event.source) for event in events]
    assert history == [
        ("requested", "", "teams"), ("approved", "在庫確認中", "lists"),
        ("approved", "明朝に発送", "teams"),
    ]
    (item,) = items(graph_server, "BcpSupplyRequests")
    assert (item["State"], item["HqNote"]) == ("承認済み", "明朝に発送")
