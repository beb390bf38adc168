"""Provisioning the shared board's lists, with the real msgraph-sdk against a loopback Graph."""

from __future__ import annotations

import time

import pytest

from bot.errors import GraphError
from bot.graph import provision as provision_module
from bot.graph.lists import LISTS, REPORTS, SUPPLY_REQUESTS, ColumnType
from bot.graph.provision import provision
from tests.graph_server import GraphServer

FACETS = {
    ColumnType.TEXT: "text",
    ColumnType.NOTE: "text",
    ColumnType.NUMBER: "number",
    ColumnType.CHOICE: "choice",
    ColumnType.DATETIME: "dateTime",
    ColumnType.BOOLEAN: "boolean",
}

pytest_plugins = ["tests.graph_server.fixtures"]


async def test_provisioning_creates_every_list_and_column_with_japanese_names(graph, graph_server):
    result = await provision(graph.client, graph_server.site_id)

    assert result.lists_created == [schema.key for schema in LISTS]
    for schema in LISTS:
        made = graph_server.state.find_list(graph_server.site_id, schema.name)
        assert made.id == result.list_ids[schema.key]
        assert (made.name, made.display_name) == (schema.name, schema.display_name)
        for column in schema.columns:
            stored = made.columns[column.name]
            assert stored["displayName"] == column.display_name
            assert FACETS[column.type] in stored
            assert stored["indexed"] == column.indexed
            if column.type is ColumnType.CHOICE:
                assert stored["choice"]["choices"] == [c.label for c in column.choices]
            if column.type is ColumnType.NOTE:
                assert stored["text"]["allowMultipleLines"] is True
        key = made.columns["Key"]
        assert key["indexed"] and key["enforceUniqueValues"]


async def test_supply_request_state_is_a_choice_column_with_the_lifecycle(graph, graph_server):
    await provision(graph.client, graph_server.site_id)

    made = graph_server.state.find_list(graph_server.site_id, SUPPLY_REQUESTS.name)
    codes = [choice.code for choice in SUPPLY_REQUESTS.column("State").choices]
    assert codes == ["requested", "approved", "dispatched", "delivered", "cancelled"]
    assert len(made.columns["State"]["choice"]["choices"]) == 5


async def test_provisioning_twice_makes_no_write_requests(graph, graph_server):
    first = await provision(graph.client, graph_server.site_id)
    graph_server.reset_records()

    second = await provision(graph.client, graph_server.site_id)

    assert graph_server.writes() == []
    assert not second.changed
    assert second.unchanged == [schema.key for schema in LISTS]
    assert second.list_ids == first.list_ids
    assert len(graph_server.state.site(graph_server.site_id)) == len(LISTS)


async def test_a_column_missing_from_an_existing_list_is_added(graph, graph_server):
    await provision(graph.client, graph_server.site_id)
    graph_server.state.remove_column(graph_server.site_id, REPORTS.name, "Reporter")
    graph_server.reset_records()

    result = await provision(graph.client, graph_server.site_id)

    assert result.columns_added == ["reports.Reporter"]
    assert result.lists_created == []
    writes = graph_server.writes()
    assert [(w.method, w.path.rsplit("/", 1)[-1]) for w in writes] == [("POST", "columns")]
    assert writes[0].body["name"] == "Reporter"
    assert writes[0].body["displayName"] == "報告者"
    assert "Reporter" in graph_server.state.find_list(graph_server.site_id, REPORTS.name).columns


async def test_a_list_made_by_hand_under_its_japanese_title_is_reused(graph, graph_server):
    state, site_id = graph_server.state, graph_server.site_id
    by_hand = state.create_list(site_id, REPORTS.display_name, "genericList", [])

    result = await provision(graph.client, site_id)

    assert result.list_ids["reports"] == by_hand.id
    assert "reports" not in result.lists_created
    assert {f"reports.{c.name}" for c in REPORTS.columns} <= set(result.columns_added)
    assert sum(gl.display_name == REPORTS.display_name for gl in state.site(site_id)) == 1


async def test_provisioning_waits_out_a_429_with_retry_after(graph, graph_server):
    graph_server.faults.throttle(1, retry_after=1)
    started = time.monotonic()

    result = await provision(graph.client, graph_server.site_id)

    assert time.monotonic() - started >= 1.0
    assert result.lists_created == [schema.key for schema in LISTS]
    statuses = [r.status for r in graph_server.requests]
    assert statuses[:2] == [429, 200]
    assert graph_server.faults.injected["429"] == 1


async def test_a_create_whose_answer_was_lost_is_not_made_twice(graph, graph_server):
    # The first POST /lists succeeds, but the gateway answers 504; the SDK retries it.
    graph_server.faults.only = lambda method, path: method == "POST" and path.endswith("/lists")
    graph_server.faults.fail(1, status=504, retry_after=1, after=True)

    result = await provision(graph.client, graph_server.site_id)

    assert len(graph_server.state.site(graph_server.site_id)) == len(LISTS)
    board = graph_server.state.find_list(graph_server.site_id, "BcpSitesBoard")
    assert result.list_ids["sites"] == board.id
    assert board.display_name == "拠点状況ボード"
    assert [r.status for r in graph_server.requests if r.method == "POST"][:2] == [504, 409]


async def test_create_list_request_has_graphs_documented_shape(graph, graph_server):
    await provision(graph.client, graph_server.site_id)

    posts = [r for r in graph_server.requests if r.method == "POST" and r.path.endswith("/lists")]
    assert len(posts) == len(LISTS)
    for post, schema in zip(posts, LISTS):
        body = post.body
        assert set(body) <= {"@odata.type", "displayName", "columns", "list"}
        assert body["displayName"] == schema.name
        assert body["list"] == {"template": "genericList"}
        assert [c["name"] for c in body["columns"]] == [c.name for c in schema.columns]
        for column in body["columns"]:
            assert sum(facet in column for facet in set(FACETS.values())) == 1
        assert post.headers["content-type"].startswith("application/json")

    patches = [r for r in graph_server.requests if r.method == "PATCH"]
    assert [p.body["displayName"] for p in patches] == [s.display_name for s in LISTS]


async def test_no_token_is_sent_to_a_loopback_server(graph, graph_server):
    await provision(graph.client, graph_server.site_id)

    assert all("authorization" not in r.headers for r in graph_server.requests)


async def test_an_unreachable_graph_fails_with_a_clear_error(graph, graph_server):
    graph_server.faults.down()

    with pytest.raises(GraphError, match="Could not reach Graph to read site"):
        await provision(graph.client, graph_server.site_id)

    # Network errors are not retried by the SDK: one attempt reached the server.
    assert len(graph_server.requests) == 1


async def test_an_unknown_site_is_reported_with_graphs_answer(graph, graph_server):
    with pytest.raises(GraphError, match="HTTP 404 itemNotFound"):
        await provision(graph.client, "contoso.sharepoint.com,nope,nope")


def test_provision_command_refuses_when_graph_is_not_configured(capsys):
    status = provision_module.main([])

    assert status == 2
    assert "BCP_GRAPH_SITE_ID" in capsys.readouterr().err


def test_provision_command_prints_what_it_did_and_then_nothing_to_change(monkeypatch, capsys):
    with GraphServer().run_in_thread() as server:
        monkeypatch.setenv("BCP_GRAPH_SITE_ID", server.site_id)
        monkeypatch.setenv("BCP_GRAPH_BASE_URL", server.url)

        first = provision_module.main([])
        first_out = capsys.readouterr().out
        second = provision_module.main([])
        second_out = capsys.readouterr().out

    assert (first, second) == (0, 0)
    assert "changes made" in first_out and "拠点状況ボード" in first_out
    assert "created with" in first_out
    assert "nothing to change" in second_out and "created" not in second_out
