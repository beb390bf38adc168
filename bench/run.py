"""Run the earthquake-morning benchmark and print its table.

    .venv/bin/python -m bench.run            # every scenario, about 9 minutes
    .venv/bin/python -m bench.run --quick    # the same path at small sizes, 1-2 minutes
    .venv/bin/python -m bench.run --scenarios closed --users 100 --duration 30

Scenarios (--scenarios, comma-separated):
    closed        --users concurrent users for --duration s, against BCP Board and against
                  the bare echo bot, stock and corrected (--baselines decides where the
                  echo bots also run: closed (default), all or none).
    open          --rate submissions a second for --open-duration s.
    burst         a shelter report from each of --burst-sites sites and a check-in from
                  each of --burst-users users, as fast as the bot accepts them.
    burst-faults  the burst with --fault-rate of Graph requests failing.

Each target runs as its own process (python app.py with a fresh journal and a generated
600-site registry; python -m bench.echo_bot), the load generator as another, and this
process serves the connector that captures the bot's replies and, once the bot has a
Graph mirror, the Graph-compatible server. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Collection
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bench import report
from bench.connector import BenchConnector, closest_gap, most_in_window
from bench.graph import GraphSide, mirror_status, publisher_status
from bench.processes import REPO, Profiler, Target, run_load, start_bot, start_echo
from bench.registry import write_registry
from bench.submissions import BOT, HQ_CHANNELS, KINDS, hq_activity, hq_conversation

SCENARIOS = ("closed", "open", "burst", "burst-faults")
TARGETS = ("bot", "echo-stock", "echo-corrected")
BOARD_WINDOW = 3.0


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    load_args: tuple[str, ...]
    targets: tuple[str, ...]
    time_limit: float
    fault_rate: float = 0.0


def plan_scenarios(args: argparse.Namespace) -> list[Scenario]:
    everywhere = TARGETS if args.baselines == "all" else ("bot",)
    closed_targets = TARGETS if args.baselines in ("closed", "all") else ("bot",)
    burst_total = args.burst_sites + args.burst_users
    burst = ("--mode", "burst", "--sites", str(args.burst_sites),
             "--burst-users", str(args.burst_users), "--concurrency", str(args.concurrency))
    burst_limit = 120 + burst_total / 20
    table = {
        "closed": Scenario(
            "closed", f"Closed loop: {args.users} users for {args.duration:g} s",
            ("--mode", "closed", "--users", str(args.users), "--duration", str(args.duration)),
            closed_targets, args.duration + 120),
        "open": Scenario(
            "open", f"Open loop: {args.rate:g} submissions/s for {args.open_duration:g} s",
            ("--mode", "open", "--rate", str(args.rate), "--duration", str(args.open_duration),
             "--concurrency", str(args.concurrency)),
            everywhere, args.open_duration + 120),
        "burst": Scenario(
            "burst", f"Burst: {burst_total:,} submissions from {args.burst_sites} sites and "
            f"{args.burst_users:,} users", burst, everywhere, burst_limit),
        "burst-faults": Scenario(
            "burst-faults", f"Burst under {args.fault_rate:.0%} Graph faults: "
            f"{burst_total:,} submissions", burst, ("bot",), burst_limit, args.fault_rate),
    }
    return [table[name] for name in args.scenarios]


class Bench:
    """One benchmark run: the shared connector, the registry, and each target's results."""

    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.registry = workdir / "sites.csv"
        self.connector = BenchConnector()
        self.connector_url = ""
        self.mirror = mirror_status()
        self.publisher = publisher_status()

    async def __aenter__(self) -> "Bench":
        write_registry(self.registry, self.args.registry_sites, self.args.seed)
        self._runner = web.AppRunner(self.connector.app(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.connector_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._runner.cleanup()

    async def run_target(self, scenario: Scenario, target_name: str) -> dict:
        rundir = self.workdir / f"{scenario.name}-{target_name}"
        rundir.mkdir()
        self.connector.reset()
        graph = None
        env: dict[str, str] = {}
        if target_name == "bot" and self.mirror is None:
            graph = GraphSide(self.args.graph_units, scenario.fault_rate, self.args.seed)
            env = await graph.start(rundir / "provision.log")
        try:
            if target_name == "bot":
                target = await start_bot(rundir, self.registry, env, self.args.bot_script)
            else:
                target = await start_echo(rundir, corrected=target_name == "echo-corrected")
            try:
                return await self._measure(scenario, target_name, target, rundir, graph)
            finally:
                await target.stop()
        finally:
            if graph is not None:
                await graph.close()

    async def _measure(self, scenario: Scenario, target_name: str, target: Target,
                       rundir: Path, graph: GraphSide | None) -> dict:
        is_bot = target_name == "bot"
        if is_bot:
            await self._open_hq_boards(target)
        posts_before = self.connector.posts_by_conversation()
        out = rundir / "load.json"
        arguments = [
            "--url", target.url, "--service-url", self.connector_url,
            "--registry", str(self.registry), "--seed", str(self.args.seed),
            "--out", str(out), *scenario.load_args,
        ] + ([] if is_bot else ["--echo"])

        cpu_before, runner_before = target.cpu_seconds(), _own_cpu()
        async with AsyncExitStack() as stack:
            if self.args.profile and is_bot:
                self.args.profile.mkdir(parents=True, exist_ok=True)
                out_profile = self.args.profile / f"{scenario.name}-bot.txt"
                await stack.enter_async_context(Profiler(target.pid, out_profile))
            wall = await run_load(arguments, scenario.time_limit, rundir / "load.log")
        cpu_after, runner_after = target.cpu_seconds(), _own_cpu()
        load = json.loads(out.read_text(encoding="utf-8"))
        accepted = sum(len(s["accepted"]) for s in load["submissions"].values())
        moves = load["moves"]
        # The figures keep counts; the ids are for the journal check only.
        figures = {k: v for k, v in load.items() if k != "submissions"}
        figures["moves"] = dict(moves, made=len(moves["made"]))

        result = {
            "target": target_name,
            "load": figures,
            "wall": wall,
            "cpu": {"target": cpu_after - cpu_before, "load": load["cpu_seconds"],
                    "runner": runner_after - runner_before},
            "accepted_total": accepted,
            "board": None,
            "graph": None,
        }
        if is_bot:
            if graph is not None:
                converged = None
                if graph.status is None:
                    converged = await graph.wait_converged(target.url, self.args.graph_wait)
                result["graph"] = graph.figures(accepted, converged, self.args.graph_wait)
            else:
                result["graph"] = {"status": self.mirror}
        result["peak_rss_mb"] = target.peak_rss_mb()
        during_load = self.connector.updates_by_conversation()
        posts = self.connector.posts_by_conversation()
        await target.stop()
        result["log_errors"] = target.log_errors()
        if is_bot:
            result["board"] = self._board_figures(during_load)
            # Besides its board card, the load makes the bot post only alerts and new supply
            # requests in HQ channels.
            result["alert_posts"] = [
                len(posts.get(c, [])) - len(posts_before.get(c, []))
                for c in (hq_conversation(n) for n in range(1, HQ_CHANNELS + 1))
            ]
            result["journal"] = check_journal(rundir / "journal.sqlite3", load["submissions"],
                                              moves["made"])
        return result

    async def _open_hq_boards(self, target: Target) -> None:
        """Install the bot in a few HQ channels and make each a live board ("ボード ここ")."""
        import aiohttp

        async with aiohttp.ClientSession() as session:
            for number in range(1, HQ_CHANNELS + 1):
                for kind, extra in (("conversationUpdate", {"membersAdded": [BOT]}),
                                    ("message", {"text": "<at>BCP Board</at> ボード ここ"})):
                    body = hq_activity(kind, number, self.connector_url, extra)
                    async with session.post(target.url + "/api/messages", json=body) as reply:
                        await reply.read()

    def _board_figures(self, during_load: dict[str, list[float]]) -> dict:
        """Count board updates per HQ conversation; the pace is judged while the load ran.

        The updates a stopping bot flushes at once are counted apart: they come when the
        bot stops, whatever its pace was.
        """
        if self.publisher is not None:
            return {"status": self.publisher}
        updates = self.connector.updates_by_conversation()
        hq = [hq_conversation(n) for n in range(1, HQ_CHANNELS + 1)]
        counts = [len(updates.get(c, [])) for c in hq]
        gaps = [closest_gap(during_load.get(c, [])) for c in hq]
        return {
            "per_conversation": counts,
            "at_shutdown": sum(counts) - sum(len(during_load.get(c, [])) for c in hq),
            "most_in_window": max((most_in_window(during_load.get(c, []), BOARD_WINDOW)
                                   for c in hq), default=0),
            "closest": min((gap for gap in gaps if gap is not None), default=None),
            "other_conversations": len(set(updates) - set(hq)),
        }


def check_journal(database: Path, submissions: dict, moves: Collection[str] = ()) -> dict:
    """Compare the journal with what the load generator saw accepted, kind by kind.

    Args:
        moves: event keys of the supply request moves answered as made; each should
            have its row in request_events.
    """
    recorded: set[str] = set()
    events: set[str] = set()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        for name in submissions:
            kind = KINDS[name]
            rows = db.execute(f"SELECT {kind.journal_key} FROM {kind.journal_table}")
            recorded.update(f"{name}:{row[0]}" for row in rows)
        if moves:
            events.update(row[0] for row in db.execute("SELECT event_key FROM request_events"))
    accepted = {f"{n}:{i}" for n, s in submissions.items() for i in s["accepted"]}
    valid = {f"{n}:{i}" for n, s in submissions.items() for i in s["valid"]}
    return {
        "rows": len(recorded),
        "accepted": len(accepted),
        "valid": len(valid),
        "lost": len(valid - recorded),
        "recorded_unanswered": len(recorded - accepted),
        "moves": len(set(moves)),
        "moves_lost": len(set(moves) - events),
    }


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def run(args: argparse.Namespace) -> dict:
    results: dict[str, dict] = {}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bcp-bench-") as temp:
        workdir = Path(args.keep) if args.keep else Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        async with Bench(args, workdir) as bench:
            for scenario in plan_scenarios(args):
                results[scenario.name] = {"title": scenario.title, "runs": {},
                                          "fault_rate": scenario.fault_rate}
                for target_name in scenario.targets:
                    print(f"running {scenario.name} against {target_name}...", file=sys.stderr,
                          flush=True)
                    runs = results[scenario.name]["runs"]
                    runs[target_name] = await bench.run_target(scenario, target_name)
    return {
        "machine": report.machine(),
        "started": started,
        "finished": time.time(),
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "kinds": sorted(KINDS),
        "scenarios": results,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes for a 1-2 minute smoke run (explicit flags win)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--baselines", choices=("closed", "all", "none"), default="closed")
    parser.add_argument("--users", type=int)
    parser.add_argument("--duration", type=float, help="closed loop seconds")
    parser.add_argument("--rate", type=float, help="open loop submissions a second")
    parser.add_argument("--open-duration", type=float, help="open loop seconds")
    parser.add_argument("--burst-sites", type=int)
    parser.add_argument("--burst-users", type=int)
    parser.add_argument("--concurrency", type=int, help="open loop and burst connections")
    parser.add_argument("--registry-sites", type=int, default=600)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--graph-units", type=int, default=6000,
                        help="SharePoint resource units a minute (server and bot)")
    parser.add_argument("--graph-wait", type=float, help="seconds to wait for the lists")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--keep", help="keep journals and logs in this folder")
    parser.add_argument("--profile", type=Path,
                        help="record the bot with py-spy into this folder (bench.profile reads it)")
    parser.add_argument("--bot-script", type=Path, default=REPO / "app.py",
                        help="run this instead of app.py, to measure a change before it lands")
    args = parser.parse_args(argv)

    full = {"users": 200, "duration": 60.0, "rate": 100.0, "open_duration": 180.0,
            "burst_sites": 600, "burst_users": 20000, "concurrency": 200, "graph_wait": 300.0}
    quick = {"users": 50, "duration": 10.0, "rate": 50.0, "open_duration": 15.0,
             "burst_sites": 60, "burst_users": 2000, "concurrency": 100, "graph_wait": 30.0}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(run(args))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report.render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
