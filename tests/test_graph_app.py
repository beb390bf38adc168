"""The Graph mirror inside the running app: reports reach the lists, HQ's edits come back.

The real app on loopback on a manual clock, the real msgraph-sdk client, and the
Graph-compatible server of tests/graph_server. Nothing here waits on real time: the
tests move the clock, and loops that wait for the app to catch up are bounded by
iterations, never by seconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.graph.lists import SITES_BOARD
from bot.graph.provision import provision
from bot.graph.rows import list_row
from bot.store.sqlite import report_fields
from tests.graph_server import user
from tests.support.clock import ManualClock
from tests.test_live_board import (
    INTERVAL,
    REPORTERS,
    SATO,
    board_updates,
    card_of,
    register_board,
    report,
)
from tests.test_scenarios import texts

pytest_plugins = ["tests.graph_server.fixtures"]

HQ_EDITOR = user("aad-hq-tanaka", "田中 本部")
POLL = 30.0


@pytest.fixture
def clock() -> ManualClock:
    # HQ's edits carry the Graph server's real time; the app's clock starts ten minutes
    # before it, so that reports sent after the clock moves on are newer than an edit.
    return ManualClock(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10))


@pytest.fixture
async def lists(graph, graph_server):
    return (await provision(graph.client, graph_server.site_id)).list_ids


@pytest.fixture
async def mirrored_bot(start_bot, graph_server, lists):
    return await start_mirrored(start_bot, graph_server)


async def start_mirrored(start_bot, graph_server, poll: float = POLL, **settings):
    """Start the app with Graph mirroring on, pointed at the loopback Graph; its first poll done."""
    bot = await start_bot(
        graph_site_id=graph_server.site_id,
        graph_base_url=graph_server.url,
        graph_poll_interval=poll,
        **settings,
    )
    for _ in range(400):
        if bot.services.graph.poller.polls or graph_server.faults.is_down:
            return bot
        await asyncio.sleep(0.01)
    raise AssertionError("the delta poller did not make its first poll")


async def converge(bot, step: float = 5.0, rounds: int = 400) -> dict:
    """Let the mirror drain: move the clock until the outbox is empty; return /healthz."""
    for _ in range(rounds):
        graph = (await bot.health())["details"]["graph"]
        if graph["pending"] == 0:
            return graph
        bot.clock.advance(step)
        await asyncio.sleep(0.01)
    raise AssertionError(f"the mirror did not converge: {graph}")


async def poll_edits(bot) -> int:
    """Poll the lists now, as the poller's loop does every interval; return its edits so far.

    A poll already under way is waited for, so this one starts after whatever the test
    changed.
    """
    poller = bot.services.graph.poller
    await poller.poll_once()
    return poller.edits


def board_rows(graph_server) -> dict[str, dict]:
    return {row["Key"]: row for row in graph_server.state.rows(graph_server.site_id, "BcpSitesBoard")}


async def assert_lists_equal_the_journal(bot, graph_server) -> None:
    """Assert each list holds one item per journal key, with the journal's newest values."""
    journal = bot.services.journal
    latest = await journal.latest_reports()
    history = [r for site in latest for r in await journal.site_history(site, 1000)]
    expected = {("sites", site): report_fields(r) for site, r in latest.items()}
    expected |= {("reports", f"report-{r.id}"): report_fields(r) for r in history}
    for list_name, list_ref in (("sites", "BcpSitesBoard"), ("reports", "BcpReports")):
        rows = graph_server.state.rows(graph_server.site_id, list_ref)
        by_key = {row["Key"]: row for row in rows}
        wanted = {key: f for (name, key), f in expected.items() if name == list_name}
        assert len(rows) == len(by_key) == len(wanted), list_name
        for key, fields in wanted.items():
            _, columns = list_row(list_name, key, fields)
            assert {k: by_key[key].get(k) for k in columns} == columns, (list_name, key)


# Wiring and /healthz


async def test_without_graph_settings_healthz_says_mirroring_is_off(start_bot):
    bot = await start_bot()

    assert (await bot.health())["details"]["graph"] == {"mirroring": "off"}


def test_startup_says_once_that_mirroring_is_off(monkeypatch, caplog):
    import app

    monkeypatch.setattr(app.web, "run_app", lambda *args, **kwargs: None)
    monkeypatch.setattr(app, "configure_logging", lambda level: None)

    with caplog.at_level("INFO", logger="bot"):
        assert app.main() == 0

    assert [r.getMessage() for r in caplog.records].count(
        "Graph mirroring is off (BCP_GRAPH_SITE_ID is not set)"
    ) == 1


async def test_reports_sent_in_teams_reach_the_lists_and_healthz_shows_the_mirror(
    mirrored_bot, graph_server
):
    bot = mirrored_bot
    for n, site in enumerate(["S001", "S002", "S001"]):
        await report(bot, REPORTERS[n], site, evacuees=str(100 + n), households="30")

    graph = await converge(bot)

    await assert_lists_equal_the_journal(bot, graph_server)
    assert board_rows(graph_server)["S001"]["Evacuees"] == 102
    assert graph["mirroring"] == "on"
    assert (graph["pending"], graph["parked"], graph["lag_seconds"]) == (0, 0, None)
    assert graph["batches"] >= 1 and graph["units"] > 0


async def test_a_burst_of_50_reports_for_one_site_is_one_board_write(
    mirrored_bot, graph_server, lists
):
    bot = mirrored_bot
    graph_server.reset_records()

    # One after another, as phones send them: the mirror lets the burst gather first.
    for n in range(50):
        await report(bot, REPORTERS[n % 5], "S001", evacuees=str(100 + n))
    await converge(bot)

    board_writes = [r for r in graph_server.writes() if f"/lists/{lists['sites']}/" in r.path]
    assert len(board_writes) == 1
    assert len(graph_server.state.rows(graph_server.site_id, "BcpReports")) == 50
    await assert_lists_equal_the_journal(bot, graph_server)


async def test_healthz_shows_the_lag_of_a_backlog(mirrored_bot, graph_server):
    bot = mirrored_bot
    graph_server.faults.down()
    await report(bot, SATO, "S001")

    bot.clock.advance(90)
    graph = (await bot.health())["details"]["graph"]

    assert graph["pending"] == 2 and graph["parked"] == 0
    assert graph["lag_seconds"] >= 90


async def test_a_site_gone_silent_is_flagged_stale_in_the_list_until_it_reports(
    mirrored_bot, graph_server
):
    bot = mirrored_bot
    await report(bot, SATO, "S001", evacuees="80", households="20")
    await converge(bot)
    assert board_rows(graph_server)["S001"]["Stale"] is False

    await bot.advance(bot.settings.stale_after.total_seconds() + 60)
    await converge(bot)

    row = board_rows(graph_server)["S001"]
    assert row["Stale"] is True and row["Evacuees"] == 80
    assert len(graph_server.state.rows(graph_server.site_id, "BcpReports")) == 1

    await report(bot, SATO, "S001", evacuees="81", households="20")
    await converge(bot)
    assert board_rows(graph_server)["S001"]["Stale"] is False


# Outages and restarts


async def test_graph_unreachable_for_a_while_then_back_converges_without_losing_a_report(
    mirrored_bot, graph_server
):
    bot = mirrored_bot
    graph_server.faults.down()

    for n in range(6):
        await report(bot, REPORTERS[n % 5], f"S00{n % 3 + 1}", evacuees=str(50 + n))
        bot.clock.advance(60)
        await asyncio.sleep(0.01)
    for _ in range(10):
        bot.clock.advance(120)
        await asyncio.sleep(0.01)

    down = (await bot.health())["details"]["graph"]
    assert down["pending"] == 9 and down["parked"] == 0
    assert down["failures_in_a_row"] >= 3 and "reach" in down["last_error"]
    assert graph_server.state.rows(graph_server.site_id, "BcpReports") == []

    graph_server.faults.up()
    back = await converge(bot, step=60)

    await assert_lists_equal_the_journal(bot, graph_server)
    assert back["parked"] == 0 and back["failures_in_a_row"] == 0


async def test_a_restart_while_graph_applied_a_batch_but_lost_its_answer_makes_no_duplicates(
    mirrored_bot, graph_server
):
    bot = mirrored_bot
    # Graph applies the next batch, but its answer is lost, and the app stops before it
    # can look the items up.
    graph_server.faults.only = lambda method, path: path == "/$batch"
    graph_server.faults.drop(1, after=True)
    for n in range(4):
        await report(bot, REPORTERS[n], f"S00{n + 1}")
    for _ in range(50):
        if graph_server.state.rows(graph_server.site_id, "BcpReports"):
            break
        bot.clock.advance(1)
        await asyncio.sleep(0.01)
    assert graph_server.state.rows(graph_server.site_id, "BcpReports")
    assert (await bot.health())["details"]["graph"]["pending"] > 0

    await bot.restart()
    await converge(bot)

    await assert_lists_equal_the_journal(bot, graph_server)
    assert (await bot.health())["details"]["graph"]["parked"] == 0


# HQ's edits flow back


async def test_an_hq_edit_in_the_list_becomes_a_correction_by_that_editor_and_updates_the_board(
    mirrored_bot, graph_server, connector
):
    bot = mirrored_bot
    board = await register_board(bot)
    await report(bot, SATO, "S001", evacuees="42", households="15")
    await converge(bot)
    await bot.advance(INTERVAL)

    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSitesBoard", "S001", {"Evacuees": 55}
    )
    assert await poll_edits(bot) == 1

    journal = bot.services.journal
    latest = await journal.latest_report("S001")
    assert latest.report.evacuees == 55 and latest.report.households == 15
    assert (latest.reporter.aad_object_id, latest.reporter.name) == ("aad-hq-tanaka", "田中 本部")
    (correction,) = await journal.corrections("S001")
    assert correction.changes == {"evacuees": {"was": "42", "hq": "55", "applied": True}}
    assert correction.report_id == latest.id and correction.editor.name == "田中 本部"
    assert [r.report.evacuees for r in await journal.site_history("S001")] == [55, 42]

    await bot.advance(INTERVAL)
    update = board_updates(connector)[-1]
    assert update.activity_id == board.answered_id
    assert '"55"' in texts(card_of(update)) or "55" in texts(card_of(update))

    await converge(bot)
    await assert_lists_equal_the_journal(bot, graph_server)
    reports = graph_server.state.rows(graph_server.site_id, "BcpReports")
    assert sorted(row["Evacuees"] for row in reports) == [42, 55]

    # The bot's own write of the correction comes back through delta: not applied again.
    assert await poll_edits(bot) == 1
    assert await journal.report_count() == 2


async def test_conflicting_edits_resolve_per_field_newest_wins_with_both_versions_kept(
    start_bot, graph_server, lists
):
    # Polls only when woken (or asked), so that the mirror meets HQ's edit first.
    bot = await start_mirrored(start_bot, graph_server, poll=24 * 3600)
    await report(bot, SATO, "S002", status="open", evacuees="40", households="10")
    await converge(bot)
    bot.clock.advance(20 * 60)

    # HQ marks the shelter full and corrects the count; before the poller sees it, the
    # shelter (ten minutes later by the app's clock) reports a new count, status unchanged.
    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSitesBoard", "S002",
        {"Status": "満員", "Evacuees": 50},
    )
    await report(bot, REPORTERS[0], "S002", status="open", evacuees="45", households="10")
    graph = await converge(bot, step=1)

    # The mirror's update met HQ's edit (412), woke the poller, and wrote the merge.
    updates = [r for r in graph_server.flat_requests() if r.path.endswith("/items/1/fields")]
    assert updates[0].status == 412 and updates[-1].status == 200
    assert graph["parked"] == 0 and bot.services.graph.poller.edits == 1

    journal = bot.services.journal
    latest = await journal.latest_report("S002")
    assert (latest.report.status.value, latest.report.evacuees) == ("full", 45)
    (correction,) = await journal.corrections("S002")
    assert correction.changes == {
        "status": {"was": "open", "hq": "full", "applied": True},
        "evacuees": {"was": "45", "hq": "50", "applied": False},
    }
    row = board_rows(graph_server)["S002"]
    assert (row["Status"], row["Evacuees"]) == ("満員", 45)
    assert [r.report.evacuees for r in await journal.site_history("S002")] == [45, 45, 40]


async def test_an_expired_delta_link_restarts_from_a_full_read_and_applies_an_edit_once(
    mirrored_bot, graph_server
):
    bot = mirrored_bot
    await report(bot, SATO, "S003", evacuees="20", households="5")
    await converge(bot)
    assert await poll_edits(bot) == 0

    graph_server.state.expire_delta_tokens()
    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSitesBoard", "S003", {"CareNeeded": 3}
    )

    assert await poll_edits(bot) == 1
    assert bot.services.graph.poller.resyncs == 2  # each watched list reads itself again
    assert (await bot.services.journal.latest_report("S003")).report.care_needed == 3
    await converge(bot)
    assert await poll_edits(bot) == 1
    assert await bot.services.journal.report_count() == 2


async def test_an_edit_that_breaks_a_rule_is_kept_in_the_history_but_not_applied(
    mirrored_bot, graph_server
):
    bot = mirrored_bot
    await report(bot, SATO, "S001", evacuees="30", households="10")
    await converge(bot)

    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSitesBoard", "S001", {"Households": 31}
    )

    assert await poll_edits(bot) == 0
    assert (await bot.services.journal.latest_report("S001")).report.households == 10
    (correction,) = await bot.services.journal.corrections("S001")
    assert correction.changes["households"]["applied"] is False
    assert correction.changes["households"]["rejected"] == "error_households_exceed"

    # The list does not keep the refused value: the journal's row is written back.
    await converge(bot)
    assert board_rows(graph_server)["S001"]["Households"] == 10
    await assert_lists_equal_the_journal(bot, graph_server)


async def test_an_edit_of_a_column_the_bot_owns_changes_nothing(mirrored_bot, graph_server):
    bot = mirrored_bot
    await report(bot, SATO, "S001")
    await converge(bot)
    assert not SITES_BOARD.column("CapacityUse").editable

    graph_server.state.edit_as(
        HQ_EDITOR, graph_server.site_id, "BcpSitesBoard", "S001", {"CapacityUse": 99}
    )

    assert await poll_edits(bot) == 0
    assert await bot.services.journal.report_count() == 1
    assert await bot.services.journal.corrections("S001") == []


# Parked rows and the retry command


async def test_a_parked_row_is_counted_and_the_retry_command_sends_it_again(
    mirrored_bot, graph_server, graph, monkeypatch, capsys
):
    from bot.__main__ import main as command

    bot = mirrored_bot
    graph_server.state.remove_column(graph_server.site_id, "BcpReports", "Reporter")
    await report(bot, SATO, "S001")
    health = await converge(bot)
    assert health["parked"] == 1
    assert graph_server.state.rows(graph_server.site_id, "BcpReports") == []

    await provision(graph.client, graph_server.site_id)
    monkeypatch.setenv("BCP_DATABASE", str(bot.settings.database))
    assert await asyncio.to_thread(command, ["graph-retry", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "1 parked rows" in listed and "reports/report-1" in listed
    assert "not recognized" in listed
    assert (await bot.health())["details"]["graph"]["parked"] == 1

    assert await asyncio.to_thread(command, ["graph-retry"]) == 0
    assert "1 rows unparked" in capsys.readouterr().out
    bot.clock.advance(5)
    health = await converge(bot)

    assert health["parked"] == 0
    await assert_lists_equal_the_journal(bot, graph_server)


# Shapes and settings


async def test_delta_requests_have_graphs_documented_shape(mirrored_bot, graph_server, lists):
    bot = mirrored_bot
    await report(bot, SATO, "S001")
    await converge(bot)
    link = await bot.services.journal.graph_cursor("delta:sites")
    await poll_edits(bot)

    items = f"/sites/{graph_server.site_id}/lists/{lists['sites']}/items"
    polls = [r for r in graph_server.requests if r.path.startswith(items + "/delta")]
    assert len(polls) >= 2 and all(r.method == "GET" and r.status == 200 for r in polls)
    # The first read is the SDK's function call with the fields expanded; later ones
    # follow the deltaLink exactly as Graph gave it.
    assert (polls[0].path, polls[0].query) == (items + "/delta()", {"$expand": "fields"})
    assert polls[-1].path == urlsplit(link).path.removeprefix("/v1.0")
    assert polls[-1].query == dict(parse_qsl(urlsplit(link).query))


def test_graph_settings_name_the_variable_when_wrong():
    from bot.errors import ConfigurationError
    from bot.settings import Settings

    settings = Settings.from_env({"BCP_GRAPH_POLL_INTERVAL": "2m", "BCP_GRAPH_MAX_ATTEMPTS": "5"})
    assert (settings.graph_poll_interval, settings.graph_max_attempts) == (120.0, 5)
    for name, value in (("BCP_GRAPH_POLL_INTERVAL", "soon"), ("BCP_GRAPH_MAX_ATTEMPTS", "0")):
        with pytest.raises(ConfigurationError, match=name):
            Settings.from_env({name: value})
