"""The outbox worker against the loopback Graph: batching, coalescing, pacing, faults, parking."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import BcpError
from bot.graph.mirror import Mirror
from bot.graph.provision import provision
from bot.graph.rows import list_row
from bot.model import (
    LIFELINES,
    SUPPLIES,
    Lifeline,
    RecordedReport,
    Reporter,
    ShelterReport,
    ShelterStatus,
    SupplyLevel,
)
from bot.store import GraphWrite, OutboxEntry
from bot.store.sqlite import report_fields

pytest_plugins = ["tests.graph_server.fixtures"]

START = datetime(2026, 1, 17, 5, 46, tzinfo=UTC)


@dataclass
class Row:
    id: int
    list_name: str
    item_key: str
    fields: dict
    enqueued_at: datetime
    attempts: int = 0
    parked: bool = False
    error: str = ""


@dataclass
class MemoryOutbox:
    """The journal's outbox methods, in memory, with the SQLite journal's semantics."""

    rows: list[Row] = field(default_factory=list)
    item_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    written: dict[tuple[str, str], GraphWrite] = field(default_factory=dict)
    fail_complete: int = 0

    def add(self, list_name: str, item_key: str, fields: dict) -> None:
        self.rows.append(Row(len(self.rows) + 1 if not self.rows else self.rows[-1].id + 1,
                             list_name, item_key, fields, START))

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]:
        newest: dict[tuple[str, str], Row] = {}
        for row in self.rows:
            newest[(row.list_name, row.item_key)] = row
        pending = sorted((r for r in newest.values() if not r.parked), key=lambda r: r.id)
        return [OutboxEntry(r.id, r.list_name, r.item_key, r.fields, r.attempts, r.enqueued_at)
                for r in pending[:limit]]

    async def outbox_complete(self, entries: list[OutboxEntry]) -> None:
        if self.fail_complete:
            self.fail_complete -= 1
            raise BcpError("journal write failed (test)")
        done = {(e.list_name, e.item_key): e.id for e in entries}
        self.rows = [r for r in self.rows
                     if r.id > done.get((r.list_name, r.item_key), 0)]

    async def outbox_retry(self, entry: OutboxEntry, error: str, park: bool) -> None:
        for row in self.rows:
            if row.id == entry.id:
                row.attempts, row.error, row.parked = row.attempts + 1, error, park

    async def outbox_stats(self) -> dict:
        pending = await self.outbox_pending(10**9)
        return {"pending": len(pending), "parked": sum(r.parked for r in self.rows)}

    async def outbox_unpark(self) -> int:
        parked = [r for r in self.rows if r.parked]
        for row in parked:
            row.parked, row.attempts = False, 0
        return len(parked)

    async def graph_item_id(self, list_name: str, item_key: str) -> str | None:
        return self.item_ids.get((list_name, item_key))

    async def set_graph_item_id(self, list_name: str, item_key: str, item_id: str) -> None:
        self.item_ids[(list_name, item_key)] = item_id

    async def graph_write(self, list_name: str, item_key: str) -> GraphWrite | None:
        return self.written.get((list_name, item_key))

    async def save_graph_write(self, list_name: str, item_key: str, write: GraphWrite) -> None:
        self.written[(list_name, item_key)] = write


class FakeTime:
    """A clock that sleeping advances at once."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def report(site: str, n: int, rng: random.Random) -> dict:
    """Return the outbox fields of report number n for a site, as the journal writes them."""
    evacuees = rng.randint(0, 400)
    shelter = ShelterReport(
        site_id=site,
        status=rng.choice([ShelterStatus.OPEN, ShelterStatus.FULL, ShelterStatus.PREPARING]),
        evacuees=evacuees,
        households=evacuees // 3,
        care_needed=evacuees // 10,
        capacity=rng.choice([None, 300, 500]),
        lifelines={name: rng.choice(list(Lifeline)) for name in LIFELINES},
        supplies={name: rng.choice(list(SupplyLevel)) for name in SUPPLIES},
        needs=rng.choice(["", "毛布が足りません", "O'Brien's insulin"]),
    )
    record = RecordedReport(n, f"sub-{n}", shelter, Reporter(f"u{n % 7}", "", f"職員{n % 7}"),
                            START + timedelta(seconds=n))
    return report_fields(record)


def enqueue_reports(outbox: MemoryOutbox, count: int, sites: int, seed: int = 5) -> dict:
    """Queue `count` reports spread over `sites` sites; return the newest fields per site."""
    rng, newest = random.Random(seed), {}
    for n in range(1, count + 1):
        site = f"site-{rng.randrange(sites):02d}"
        fields = report(site, n, rng)
        outbox.add("reports", f"report-{n}", fields)
        outbox.add("sites", site, fields)
        newest[site] = fields
    return newest


@pytest.fixture
async def lists(graph, graph_server):
    return (await provision(graph.client, graph_server.site_id)).list_ids


@pytest.fixture
def fake_time(graph_server):
    fake = FakeTime()
    graph_server.budget.clock = fake.clock
    return fake


def make_mirror(outbox, graph, graph_server, lists, fake_time, **options) -> Mirror:
    return Mirror(outbox, graph.client, graph_server.site_id, clock=fake_time.clock,
                  sleep=fake_time.sleep, rng=random.Random(3), list_ids=dict(lists), **options)


async def drain(mirror: Mirror, fake_time: FakeTime, passes: int = 200) -> None:
    """Run passes as Mirror.run would, with fake time, until the outbox is idle."""
    for _ in range(passes):
        try:
            result = await mirror.drain_once()
        except BcpError:
            fake_time.now += 5
            continue
        if result.idle:
            return
        fake_time.now += result.wait
    raise AssertionError("the outbox did not drain")


def assert_mirrored(graph_server, outbox_fields: dict[tuple[str, str], dict]) -> None:
    """Assert each list holds exactly one item per key, with the newest fields."""
    site_id = graph_server.site_id
    for list_name in {name for name, _ in outbox_fields}:
        schema_name = {"reports": "BcpReports", "sites": "BcpSitesBoard"}[list_name]
        rows = graph_server.state.rows(site_id, schema_name)
        by_key = {row["Key"]: row for row in rows}
        expected = {key: f for (name, key), f in outbox_fields.items() if name == list_name}
        assert len(rows) == len(by_key) == len(expected), list_name
        for key, fields in expected.items():
            _, wanted = list_row(list_name, key, fields)
            stored = by_key[key]
            assert {k: stored.get(k) for k in wanted} == wanted, (list_name, key)


async def test_500_reports_across_30_sites_mirror_exactly(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    newest = enqueue_reports(outbox, 500, 30)
    expected = {("sites", site): fields for site, fields in newest.items()}
    expected |= {(r.list_name, r.item_key): r.fields for r in outbox.rows
                 if r.list_name == "reports"}
    graph_server.reset_records()

    await drain(make_mirror(outbox, graph, graph_server, lists, fake_time), fake_time)

    assert_mirrored(graph_server, expected)
    item_writes = [r for r in graph_server.writes() if "/items" in r.path]
    assert len(item_writes) == 500 + len(newest)
    assert all(len(r.children) <= 20 for r in graph_server.requests)
    assert await outbox.outbox_stats() == {"pending": 0, "parked": 0}


async def test_a_burst_of_50_reports_for_one_site_is_one_board_write(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    enqueue_reports(outbox, 50, 1)
    graph_server.reset_records()

    await drain(make_mirror(outbox, graph, graph_server, lists, fake_time), fake_time)

    board_writes = [r for r in graph_server.writes() if lists["sites"] in r.path]
    assert len(board_writes) == 1
    assert len(graph_server.state.rows(graph_server.site_id, "BcpReports")) == 50


async def test_the_next_state_of_an_item_is_an_update_of_the_same_item(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    mirror = make_mirror(outbox, graph, graph_server, lists, fake_time)
    rng = random.Random(1)
    outbox.add("sites", "site-01", report("site-01", 1, rng))
    await drain(mirror, fake_time)
    later = report("site-01", 2, rng)
    outbox.add("sites", "site-01", later)
    graph_server.reset_records()

    await drain(mirror, fake_time)

    (write,) = graph_server.writes()
    assert write.method == "PATCH" and write.path.endswith("/items/1/fields")
    assert_mirrored(graph_server, {("sites", "site-01"): later})


async def test_twenty_percent_faults_still_converge_exactly(graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    newest = enqueue_reports(outbox, 300, 30, seed=9)
    expected = {("sites", site): fields for site, fields in newest.items()}
    expected |= {(r.list_name, r.item_key): r.fields for r in outbox.rows
                 if r.list_name == "reports"}
    graph_server.faults.randomly(0.2)

    await drain(make_mirror(outbox, graph, graph_server, lists, fake_time), fake_time)

    graph_server.faults.clear()
    assert_mirrored(graph_server, expected)
    assert sum(graph_server.faults.injected.values()) > 30
    assert (await outbox.outbox_stats())["parked"] == 0


async def test_graph_unreachable_for_a_while_then_back_converges_and_parks_nothing(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    newest = enqueue_reports(outbox, 40, 5)
    mirror = make_mirror(outbox, graph, graph_server, lists, fake_time)
    graph_server.faults.down()

    waits = []
    for _ in range(12):
        result = await mirror.drain_once()
        waits.append(result.wait)
        fake_time.now += result.wait

    assert all(wait > 0 for wait in waits) and max(waits) > 60
    assert all(row.attempts == 0 and not row.parked for row in outbox.rows)
    graph_server.faults.up()
    await drain(mirror, fake_time)
    assert_mirrored(graph_server, {("sites", s): f for s, f in newest.items()})


async def test_a_restart_after_graph_applied_a_batch_makes_no_duplicates(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    newest = enqueue_reports(outbox, 10, 10)
    # The whole first batch is applied, but its answer never arrives; the bot dies.
    graph_server.faults.only = lambda method, path: path == "/$batch"
    graph_server.faults.drop(1, after=True)
    first = make_mirror(outbox, graph, graph_server, lists, fake_time)
    await first.drain_once()
    assert len(graph_server.state.rows(graph_server.site_id, "BcpReports")) > 0

    restarted = make_mirror(outbox, graph, graph_server, lists, fake_time)
    await drain(restarted, fake_time)

    expected = {(r.list_name, r.item_key): r.fields for r in outbox.rows}
    expected |= {("sites", site): fields for site, fields in newest.items()}
    assert_mirrored(graph_server, {k: v for k, v in expected.items()})
    assert (await outbox.outbox_stats())["parked"] == 0


async def test_a_crash_between_graph_and_the_journal_is_repaired_without_duplicates(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    newest = enqueue_reports(outbox, 10, 3)
    outbox.fail_complete = 1
    with pytest.raises(BcpError):
        await make_mirror(outbox, graph, graph_server, lists, fake_time).drain_once()

    await drain(make_mirror(outbox, graph, graph_server, lists, fake_time), fake_time)

    assert len(graph_server.state.rows(graph_server.site_id, "BcpReports")) == 10
    assert_mirrored(graph_server, {("sites", s): f for s, f in newest.items()})


async def test_a_429_inside_a_200_batch_waits_for_its_retry_after(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    enqueue_reports(outbox, 3, 3)
    graph_server.faults.only = lambda method, path: method == "POST" and path.endswith("/items")
    graph_server.faults.throttle(1, retry_after=30)
    mirror = make_mirror(outbox, graph, graph_server, lists, fake_time)
    started = fake_time.now

    await drain(mirror, fake_time)

    envelopes = [r for r in graph_server.requests if r.path == "/$batch"]
    assert envelopes[0].status == 200 and envelopes[0].children[0].status == 429
    assert fake_time.now - started >= 30
    assert all(row.attempts == 0 for row in outbox.rows) or not outbox.rows
    assert len(graph_server.state.rows(graph_server.site_id, "BcpReports")) == 3


async def test_a_backlog_drains_near_the_budget_without_being_throttled(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    for n in range(450):
        outbox.add("reports", f"report-{n}", report("site-01", n, random.Random(n)))
    graph_server.budget.per_minute = 120
    mirror = make_mirror(outbox, graph, graph_server, lists, fake_time, units_per_minute=120)
    started = fake_time.now

    await drain(mirror, fake_time)

    minutes = (fake_time.now - started) / 60
    assert not [r for r in graph_server.flat_requests() if r.fault == "budget"]
    assert 900 / minutes >= 0.93 * 120  # 450 writes, 2 units each
    assert len(graph_server.state.rows(graph_server.site_id, "BcpReports")) == 450


async def test_a_row_graph_refuses_for_good_is_parked_and_logged(
        graph, graph_server, lists, fake_time, caplog):
    outbox = MemoryOutbox()
    outbox.add("reports", "report-1", report("site-01", 1, random.Random(1)))
    graph_server.state.remove_column(graph_server.site_id, "BcpReports", "Reporter")
    mirror = make_mirror(outbox, graph, graph_server, lists, fake_time)

    with caplog.at_level(logging.ERROR, logger="bot.graph.mirror"):
        await drain(mirror, fake_time)

    assert (await outbox.outbox_stats()) == {"pending": 0, "parked": 1}
    assert "not recognized" in outbox.rows[0].error
    assert "Parked outbox row 1 for reports/report-1" in caplog.text

    await provision(graph.client, graph_server.site_id)
    assert await outbox.outbox_unpark() == 1
    await drain(mirror, fake_time)
    assert outbox.rows == []


async def test_repeated_failures_park_a_row_after_max_attempts_and_keep_it(
        graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    outbox.add("reports", "report-1", report("site-01", 1, random.Random(1)))
    graph_server.faults.only = lambda method, path: method == "POST" and path.endswith("/items")
    graph_server.faults.fail(10, status=500)
    mirror = make_mirror(outbox, graph, graph_server, lists, fake_time, max_attempts=3)

    await drain(mirror, fake_time)

    (row,) = outbox.rows
    assert row.parked and row.attempts == 3 and "HTTP 500" in row.error


async def test_an_item_deleted_in_sharepoint_is_created_again(
        graph, graph_server, lists, fake_time):
    outbox, rng = MemoryOutbox(), random.Random(2)
    mirror = make_mirror(outbox, graph, graph_server, lists, fake_time)
    outbox.add("sites", "site-01", report("site-01", 1, rng))
    await drain(mirror, fake_time)
    board = graph_server.state.find_list(graph_server.site_id, "BcpSitesBoard")
    graph_server.state.delete_item(board, board.items["1"])
    later = report("site-01", 2, rng)
    outbox.add("sites", "site-01", later)

    await drain(mirror, fake_time)

    assert_mirrored(graph_server, {("sites", "site-01"): later})


async def test_batch_requests_have_graphs_documented_shape(graph, graph_server, lists, fake_time):
    outbox = MemoryOutbox()
    enqueue_reports(outbox, 30, 3)
    graph_server.reset_records()

    await drain(make_mirror(outbox, graph, graph_server, lists, fake_time), fake_time)

    envelopes = [r for r in graph_server.requests if r.path == "/$batch"]
    assert envelopes and all(e.status == 200 for e in envelopes)
    for envelope in envelopes:
        assert envelope.headers["content-type"].startswith("application/json")
        requests = envelope.body["requests"]
        assert 1 <= len(requests) <= 20
        assert [r["id"] for r in requests] == [str(n) for n in range(1, len(requests) + 1)]
        for inner in requests:
            assert set(inner) <= {"id", "method", "url", "headers", "body"}
            assert inner["url"].startswith(f"/sites/{graph_server.site_id}/lists/")
            assert inner["headers"]["Content-Type"] == "application/json"
            assert inner["method"] == "POST" and set(inner["body"]) == {"fields"}
            assert inner["body"]["fields"]["Key"]


async def test_run_drains_when_woken_and_stops(graph, graph_server, lists):
    outbox = MemoryOutbox()
    mirror = Mirror(outbox, graph.client, graph_server.site_id, list_ids=dict(lists),
                    poll_interval=30, gather=0.01)
    task = asyncio.create_task(mirror.run())
    await asyncio.sleep(0.05)

    outbox.add("sites", "site-01", report("site-01", 1, random.Random(1)))
    mirror.wake()
    for _ in range(100):
        if not outbox.rows:
            break
        await asyncio.sleep(0.02)
    mirror.stop()
    await asyncio.wait_for(task, 2)

    assert outbox.rows == [] and mirror.status()["batches"] == 1
