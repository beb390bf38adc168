"""The loopback Graph itself: Graph's shapes, ETags, paging, delta, $batch, units, faults."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.graph_server import GraphServer, user
from tests.graph_server.columns import make_column
from tests.graph_server.faults import UnitBudget

HQ = user("hq-0001", "本部 太郎")
JSON = {"Content-Type": "application/json"}

pytest_plugins = ["tests.graph_server.fixtures"]


@pytest.fixture
def tasks(graph_server):
    """A list with an indexed Key, a plain text column and a choice column."""
    columns = [
        make_column({"name": "Key", "text": {}, "indexed": True, "enforceUniqueValues": True}),
        make_column({"name": "Note", "text": {"allowMultipleLines": True}}),
        make_column({"name": "State", "choice": {"choices": ["要請中", "発送済み"]}}),
        make_column({"name": "Count", "number": {"minimum": 0}}),
    ]
    made = graph_server.state.create_list(graph_server.site_id, "Tasks", "genericList", columns)
    return f"{graph_server.url}/sites/{graph_server.site_id}/lists/{made.id}"


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_items_carry_etags_and_if_match_refuses_a_stale_update(http, tasks):
    created = await http.post(f"{tasks}/items", json={"fields": {"Key": "a", "Count": 1}})
    assert created.status_code == 201
    item = created.json()
    assert item["fields"]["Key"] == "a" and item["eTag"] == item["@odata.etag"]
    assert {"id", "createdDateTime", "lastModifiedDateTime", "lastModifiedBy"} <= set(item)

    url = f"{tasks}/items/{item['id']}/fields"
    updated = await http.patch(url, json={"Count": 2}, headers={"If-Match": item["eTag"]})
    assert updated.status_code == 200 and updated.json()["Count"] == 2
    assert updated.json()["@odata.etag"] != item["eTag"]

    stale = await http.patch(url, json={"Count": 3}, headers={"If-Match": item["eTag"]})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "resourceModified"


async def test_the_server_counts_the_apps_writes_that_changed_nothing(http, graph_server, tasks):
    item = (await http.post(f"{tasks}/items", json={"fields": {"Key": "a", "Count": 1}})).json()
    url = f"{tasks}/items/{item['id']}/fields"
    await http.patch(url, json={"Count": 1})  # the same value again
    await http.patch(url, json={"Count": 2, "Note": "x"})
    site, list_id = graph_server.site_id, tasks.rsplit("/", 1)[1]
    graph_server.state.edit_as({"user": {"id": "hq"}}, site, list_id, item["id"], {"Count": 2})

    state = graph_server.state
    assert (state.item_writes_landed, state.item_writes_unchanged) == (3, 1)


async def test_a_second_item_with_the_same_unique_key_is_refused(http, tasks):
    await http.post(f"{tasks}/items", json={"fields": {"Key": "same"}})

    again = await http.post(f"{tasks}/items", json={"fields": {"Key": "same"}})

    assert again.status_code == 409
    assert "duplicate values" in again.json()["error"]["message"]


async def test_filtering_a_non_indexed_column_needs_the_prefer_header(http, tasks):
    await http.post(f"{tasks}/items", json={"fields": {"Key": "k1", "Note": "x"}})
    query = {"$expand": "fields", "$filter": "fields/Note eq 'x'"}

    refused = await http.get(f"{tasks}/items", params=query)
    allowed = await http.get(
        f"{tasks}/items",
        params=query,
        headers={"Prefer": "HonorNonIndexedQueriesWarningMayFailRandomly"},
    )
    by_key = await http.get(
        f"{tasks}/items", params={"$expand": "fields", "$filter": "fields/Key eq 'k1'"}
    )

    assert refused.status_code == 400 and "not indexed" in refused.json()["error"]["message"]
    assert [i["fields"]["Key"] for i in allowed.json()["value"]] == ["k1"]
    assert [i["fields"]["Key"] for i in by_key.json()["value"]] == ["k1"]


async def test_item_listing_pages_with_next_link(http, tasks):
    for n in range(5):
        await http.post(f"{tasks}/items", json={"fields": {"Key": f"k{n}"}})

    keys, url, params = [], f"{tasks}/items", {"$expand": "fields", "$top": "2"}
    while url:
        page = (await http.get(url, params=params)).json()
        keys += [item["fields"]["Key"] for item in page["value"]]
        url, params = page.get("@odata.nextLink"), None

    assert keys == ["k0", "k1", "k2", "k3", "k4"]


async def test_delta_returns_only_changes_since_the_token(http, graph_server, tasks):
    for n in range(3):
        await http.post(f"{tasks}/items", json={"fields": {"Key": f"k{n}"}})
    first = (await http.get(f"{tasks}/items/delta", params={"$expand": "fields"})).json()
    assert len(first["value"]) == 3 and "@odata.deltaLink" in first

    graph_server.state.edit_as(HQ, graph_server.site_id, "Tasks", "k1", {"State": "発送済み"})
    board = graph_server.state.find_list(graph_server.site_id, "Tasks")
    graph_server.state.delete_item(board, board.items["3"])
    second = (await http.get(first["@odata.deltaLink"] + "&$expand=fields")).json()

    edited, deleted = second["value"]
    assert edited["fields"]["State"] == "発送済み"
    assert edited["lastModifiedBy"]["user"]["displayName"] == "本部 太郎"
    assert deleted == {
        "id": "3",
        "parentReference": {"siteId": graph_server.site_id},
        "deleted": {"state": "deleted"},
    }
    third = (await http.get(second["@odata.deltaLink"])).json()
    assert third["value"] == []


async def test_delta_links_keep_the_first_requests_expand_as_graph_does(
    http, graph_server, tasks
):
    await http.post(f"{tasks}/items", json={"fields": {"Key": "k0"}})
    first = (await http.get(f"{tasks}/items/delta", params={"$expand": "fields", "$top": "1"}))
    assert first.json()["value"][0]["fields"]["Key"] == "k0"
    await http.post(f"{tasks}/items", json={"fields": {"Key": "k1"}})
    done = (await http.get(first.json()["@odata.deltaLink"])).json()

    graph_server.state.edit_as(HQ, graph_server.site_id, "Tasks", "k0", {"State": "発送済み"})
    later = (await http.get(done["@odata.deltaLink"])).json()

    assert [item["fields"]["Key"] for item in done["value"]] == ["k1"]
    assert later["value"][0]["fields"]["State"] == "発送済み"


async def test_delta_pages_and_answers_410_for_an_expired_token(http, graph_server, tasks):
    for n in range(3):
        await http.post(f"{tasks}/items", json={"fields": {"Key": f"k{n}"}})
    page = (await http.get(f"{tasks}/items/delta", params={"$top": "2"})).json()
    assert len(page["value"]) == 2 and "@odata.nextLink" in page
    last = (await http.get(page["@odata.nextLink"])).json()
    assert len(last["value"]) == 1 and "@odata.deltaLink" in last

    graph_server.state.expire_delta_tokens()
    gone = await http.get(last["@odata.deltaLink"])

    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "resyncChangesApplyDifferences"
    restart = (await http.get(gone.headers["Location"])).json()
    assert len(restart["value"]) == 3


async def test_delta_through_the_sdk_uses_its_delta_function_path(graph, graph_server, tasks):
    list_id = tasks.rsplit("/", 1)[1]
    items = graph.client.sites.by_site_id(graph_server.site_id).lists.by_list_id(list_id).items
    graph_server.state.create_item(
        graph_server.state.find_list(graph_server.site_id, list_id), {"Key": "k1"}
    )

    page = await items.delta.get()
    latest = await items.delta.with_url(page.odata_delta_link).get()

    # NOTE: msgraph-sdk requests ".../items/delta()" (with parentheses).
    assert graph_server.requests[0].path.endswith("/items/delta()")
    assert [item.id for item in page.value] == ["1"] and latest.value == []


async def test_batch_answers_each_request_in_graphs_shape(http, graph_server, tasks):
    path = tasks.split("/v1.0", 1)[1]
    graph_server.faults.only = lambda method, p: method == "POST" and p.endswith("/items")
    requests = [
        {
            "id": str(n),
            "method": "POST",
            "url": f"{path}/items",
            "headers": JSON,
            "body": {"fields": {"Key": f"k{n}"}},
        }
        for n in range(3)
    ]
    requests.append(
        {"id": "3", "method": "GET", "url": f"{path}/items?$expand=fields", "dependsOn": ["2"]}
    )
    graph_server.faults.fail(1, status=503, retry_after=0)
    graph_server.faults.throttle(1, retry_after=7)

    answer = await http.post(f"{graph_server.url}/$batch", json={"requests": requests})

    assert answer.status_code == 200
    by_id = {r["id"]: r for r in answer.json()["responses"]}
    assert [by_id[str(n)]["status"] for n in range(4)] == [503, 429, 201, 200]
    assert by_id["1"]["headers"]["Retry-After"] == "7"
    assert by_id["1"]["body"]["error"]["code"] == "TooManyRequests"
    assert by_id["2"]["body"]["fields"]["Key"] == "k2"
    envelope = graph_server.requests[-1]
    assert [(c.batch_id, c.status) for c in envelope.children] == [
        ("0", 503),
        ("1", 429),
        ("2", 201),
        ("3", 200),
    ]


async def test_batch_marks_requests_whose_dependency_failed_424(http, graph_server, tasks):
    path = tasks.split("/v1.0", 1)[1]
    requests = [
        {
            "id": "a",
            "method": "POST",
            "url": f"{path}/items",
            "headers": JSON,
            "body": {"fields": {"Nope": 1}},
        },
        {"id": "b", "method": "GET", "url": f"{path}/items", "dependsOn": ["a"]},
    ]

    answer = await http.post(f"{graph_server.url}/$batch", json={"requests": requests})

    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert statuses == {"a": 400, "b": 424}


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"requests": [{"id": str(n), "method": "GET", "url": "/sites/x"} for n in range(21)]},
            "1 to 20",
        ),
        (
            {"requests": [{"id": "1", "method": "GET", "url": "/sites/x", "depends_on": []}]},
            "depends_on",
        ),
        (
            {"requests": [{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/x"}]},
            "relative",
        ),
        (
            {
                "requests": [
                    {"id": "1", "method": "GET", "url": "/a"},
                    {"id": "1", "method": "GET", "url": "/b"},
                ]
            },
            "unique",
        ),
    ],
)
async def test_malformed_batches_are_refused_whole(http, graph_server, body, message):
    answer = await http.post(f"{graph_server.url}/$batch", json=body)

    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "suffix, body, message",
    [
        ("", {"name": "X", "list": {"template": "genericList"}}, "Cannot define a 'name'"),
        (
            "",
            {"displayName": "X", "columns": [{"name": "A", "text": {}, "number": {}}]},
            "exactly one type facet",
        ),
        ("", {"displayName": "X", "columns": [{"name": "A B", "text": {}}]}, "ASCII"),
        ("/columns", {"name": "C", "choice": {"choices": []}}, "non-empty"),
        ("/columns", {"name": "C", "text": {}, "enforceUniqueValues": True}, "requires indexed"),
        ("/items", {"fields": {"Unknown": "x"}}, "not recognized"),
        ("/items", {"Key": "x"}, "fields"),
        ("/items", {"fields": {"State": "done"}}, "not one of"),
        ("/items", {"fields": {"Count": "3"}}, "needs a number"),
    ],
)
async def test_malformed_requests_get_400_with_an_odata_error(http, tasks, suffix, body, message):
    url = tasks.rsplit("/", 1)[0] if suffix == "" else tasks + suffix

    answer = await http.post(url, json=body)

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalidRequest" and message in error["message"]
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])


async def test_resource_units_are_counted_per_request(http, graph_server, tasks):
    graph_server.reset_records()

    item = (await http.post(f"{tasks}/items", json={"fields": {"Key": "a"}})).json()
    await http.get(f"{tasks}/items/{item['id']}")
    await http.get(f"{tasks}/items")

    assert [r.units for r in graph_server.requests] == [2, 1, 2]
    assert graph_server.units == 5


def test_the_unit_budget_throttles_for_the_rest_of_the_minute():
    now = [0.0]
    budget = UnitBudget(per_minute=10, clock=lambda: now[0])

    assert [budget.charge(2) for _ in range(5)] == [None] * 5
    now[0] = 20.0
    assert budget.charge(2) == 40
    now[0] = 60.0
    assert budget.charge(2) is None


async def test_a_dropped_connection_is_a_transport_error_and_after_applies_the_write(
    http, graph_server, tasks
):
    graph_server.faults.drop(1)
    graph_server.faults.drop(1, after=True)

    with pytest.raises(httpx.TransportError):
        await http.post(f"{tasks}/items", json={"fields": {"Key": "lost"}})
    with pytest.raises(httpx.TransportError):
        await http.post(f"{tasks}/items", json={"fields": {"Key": "kept"}})

    keys = [row["Key"] for row in graph_server.state.rows(graph_server.site_id, "Tasks")]
    assert keys == ["kept"]


async def test_down_drops_everything_until_up(http, graph_server, tasks):
    graph_server.faults.down()
    with pytest.raises(httpx.TransportError):
        await http.get(f"{tasks}/items")

    graph_server.faults.up()
    assert (await http.get(f"{tasks}/items")).status_code == 200


async def test_a_slow_response_arrives_late(http, graph_server, tasks):
    graph_server.faults.slow(1, seconds=0.3)
    started = time.monotonic()

    answer = await http.get(f"{tasks}/items")

    assert answer.status_code == 200 and time.monotonic() - started >= 0.3


async def test_random_faults_repeat_with_the_same_seed(http):
    async def injected(seed: int) -> list[int | None]:
        async with GraphServer(seed=seed) as server:
            server.faults.randomly(0.5)
            statuses = []
            for _ in range(20):
                try:
                    statuses.append(
                        (await http.get(f"{server.url}/sites/{server.site_id}")).status_code
                    )
                except httpx.TransportError:
                    statuses.append(None)
            return statuses

    first, second = await injected(3), await injected(3)

    assert first == second and set(first) - {200}


def test_the_server_runs_in_a_thread_for_synchronous_callers():
    with GraphServer().run_in_thread() as server:
        answer = httpx.get(f"{server.url}/sites/{server.site_id}", timeout=5)

    assert answer.status_code == 200 and answer.json()["id"] == server.site_id


async def test_a_slow_request_does_not_hold_up_others(http, graph_server, tasks):
    graph_server.faults.slow(1, seconds=0.5)
    slow = asyncio.create_task(http.get(f"{tasks}/items"))
    await asyncio.sleep(0.05)
    started = time.monotonic()

    quick = await http.get(f"{tasks}/items")

    assert quick.status_code == 200 and time.monotonic() - started < 0.4
    assert not slow.done()
    assert (await slow).status_code == 200
