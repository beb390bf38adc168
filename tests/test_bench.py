"""Benchmark smoke tests: the load generator's accounting, against the real app on loopback.

The figures bench.run prints are only as good as this bookkeeping: every submission the
bot accepted is in the journal (read while the bot runs: it commits before it answers),
nothing valid is lost, and every wrong answer is counted under its kind. Timings are
never asserted here.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bench import load
from bench.echo_bot import create_app as create_echo_app
from bench.load import Plan
from bench.registry import read_sites, write_registry
from bench.run import check_journal
from bench.submissions import KINDS, make_users
from bot.model import Rejection, parse_shelter_report
from bot.sites import load_registry
from bot.staff import parse_check_in
from bot.supplies import parse_supply_request
from tests.conftest import RunningBot, serve

# The product's own parser for each submission kind the generator sends.
PARSERS = {
    "shelter_report": parse_shelter_report,
    "staff_checkin": lambda values, sites: parse_check_in(values),
    "supply_request": parse_supply_request,
}


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "sites.csv"
    write_registry(path, count=60, seed=1)
    return path


@pytest.fixture
async def bench_bot(settings, connector, registry):
    bot = RunningBot(replace(settings, sites=registry), connector)
    await bot.start()
    yield bot
    await bot.stop()


async def run_load(url: str, service_url: str, registry: Path, *arguments: str) -> dict:
    args = load.parse_args([
        "--url", url, "--service-url", service_url, "--registry", str(registry),
        "--seed", "3", "--out", "unused.json", *arguments,
    ])
    return await load.run(args)


def accepted_count(result: dict) -> int:
    return sum(len(kind["accepted"]) for kind in result["submissions"].values())


async def test_closed_loop_accepts_every_valid_submission_and_journals_it(
    bench_bot, connector, registry, settings
):
    result = await run_load(bench_bot.url, connector.url, registry,
                            "--mode", "closed", "--users", "20", "--duration", "2")

    assert result["errors"] == {}
    assert set(result["sent"]) >= {"submission", "form", "command"}
    assert all(kind["accepted"] for kind in result["submissions"].values())
    assert connector.sent(), "typed commands are answered on the connector"

    journal = check_journal(settings.database, result["submissions"])
    assert journal["rows"] == journal["accepted"] == accepted_count(result)
    assert journal["lost"] == journal["recorded_unanswered"] == 0


async def test_burst_with_retries_records_each_submission_once(
    bench_bot, connector, registry, settings
):
    result = await run_load(bench_bot.url, connector.url, registry, "--mode", "burst",
                            "--sites", "20", "--burst-users", "150", "--concurrency", "20")

    assert result["errors"] == {}
    assert result["sent"]["retry"] > 0
    assert result["expected_rejections"] > 0

    journal = check_journal(settings.database, result["submissions"])
    assert journal["rows"] == journal["accepted"] == accepted_count(result)
    assert journal["valid"] == journal["accepted"]
    assert journal["lost"] == 0


async def test_a_bot_that_accepts_invalid_submissions_is_counted_as_an_error(
    connector, registry
):
    runner, url = await serve(create_echo_app(corrected=True))
    try:
        arguments = ("--mode", "burst", "--sites", "20", "--burst-users", "150",
                     "--concurrency", "20")
        judged = await run_load(url, connector.url, registry, *arguments)
        as_echo = await run_load(url, connector.url, registry, *arguments, "--echo")
    finally:
        await runner.cleanup()

    invalid = judged["sent"]["submission"] - sum(
        len(kind["valid"]) for kind in judged["submissions"].values()
    )
    assert invalid > 0
    assert set(judged["errors"]) == {"invalid_accepted"}
    assert judged["errors"]["invalid_accepted"] >= invalid
    # Told it is an echo bot, the generator counts as accepted only what should be.
    assert as_echo["errors"] == {}
    for kind in as_echo["submissions"].values():
        assert kind["accepted"] == kind["valid"]


def test_a_sites_next_report_changes_its_previous_one_a_little_and_reproducibly(registry):
    sites = read_sites(registry)
    users = make_users(10, sites, seed=1)

    def reports(seed: int) -> list[dict]:
        plan = Plan([KINDS["shelter_report"]], "http://127.0.0.1:1/", seed)
        return [plan.submission(users[0]).body["value"]["action"]["data"] for _ in range(200)]

    sent = reports(5)
    assert sent == reports(5)
    same = {"submission_id", "site_id", "lang", "capacity"}
    for before, after in zip(sent, sent[1:]):
        changed = {key for key in after if after[key] != before[key]} - same
        # Evacuee counts drift; at most a few of the twelve supplies and lifelines move.
        assert len(changed - {"evacuees", "households", "care_needed", "needs", "status"}) <= 3
    crossings = sum(
        after["supply_water"] == "out" != before["supply_water"]
        for before, after in zip(sent, sent[1:])
    )
    assert crossings < 20


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_sends_what_the_product_accepts_and_invalid_what_it_rejects(registry, name):
    sites = load_registry(registry).sites
    users = make_users(40, read_sites(registry), seed=2)
    plan = Plan([KINDS[name]], "http://127.0.0.1:1/", seed=4)

    for number in range(400):
        invalid = number % 4 == 0
        action = plan.submission(users[number % len(users)], invalid=invalid)
        values = action.body["value"]["action"]["data"]
        parsed = PARSERS[name](values, sites)
        assert isinstance(parsed, Rejection) == invalid, (values, parsed)


def test_supply_requests_are_a_few_in_a_hundred_and_written_in_the_users_language(registry):
    sites = read_sites(registry)
    users = make_users(200, sites, seed=1)
    plan = Plan(list(KINDS.values()), "http://127.0.0.1:1/", seed=6)

    actions = [plan.submission(user) for user in users * 10]
    requests = [a for a in actions if a.kind.name == "supply_request"]
    assert 0.04 < len(requests) / len(actions) < 0.09
    for action in requests:
        data = action.body["value"]["action"]["data"]
        japanese = any("\u3000" <= char <= "\u9fff" for char in data["items"])
        assert japanese == (data["lang"] == "ja")
    priorities = Counter(a.body["value"]["action"]["data"]["priority"] for a in requests)
    assert priorities["normal"] > priorities["urgent"] > 0


async def test_supply_requests_are_judged_by_the_bots_real_answers_and_journaled(
    bench_bot, connector, registry, settings
):
    result = await run_load(bench_bot.url, connector.url, registry, "--kinds", "supply_request",
                            "--mode", "closed", "--users", "20", "--duration", "2")

    assert result["errors"] == {}
    assert result["expected_rejections"] > 0
    assert result["submissions"]["supply_request"]["accepted"]

    journal = check_journal(settings.database, result["submissions"])
    assert journal["rows"] == journal["accepted"] == accepted_count(result)
    assert journal["valid"] == journal["accepted"]
    assert journal["lost"] == 0


async def test_hq_moves_requests_along_and_each_move_made_is_journaled(
    bench_bot, connector, registry, settings
):
    result = await run_load(bench_bot.url, connector.url, registry, "--kinds", "supply_request",
                            "--mode", "closed", "--users", "20", "--duration", "2")

    assert result["errors"] == {}
    moves = result["moves"]
    made = moves["made"]
    # Every press is answered: made, a repeat of a press made, or refused.
    assert made and result["sent"]["move"] == len(made) + moves["repeated"] + moves["refused"]

    journal = check_journal(settings.database, result["submissions"], made)
    assert journal["moves"] == len(made)
    assert journal["moves_lost"] == 0
    with sqlite3.connect(settings.database) as db:
        states = {row[0] for row in db.execute(
            "SELECT state FROM request_events WHERE event_key LIKE 'teams-%'")}
    # HQ works through the oldest requests: some get past approval.
    assert {"approved", "dispatched"} <= states
