"""Graph mirror benchmark: a burst of reports drained into SharePoint lists, against the budget.

    python -m bench.graph_burst [--reports 2000] [--sites 100] [--units 1200]
                                [--throttle 0.2] [--real-time]

For each scenario (no injected throttling, then a share --throttle of item requests
answered 429 or 503 with Retry-After), it records the burst in a fresh SQLite journal
(each report with its outbox rows, as the bot does), starts the loopback Graph-compatible
server of tests/graph_server with SharePoint's resource-unit budget (--units a minute,
refusing beyond it with 429 like SharePoint), provisions the lists, and lets the bot's
Mirror (the real msgraph-sdk client, real $batch requests over loopback) drain the
outbox. It prints Graph requests and resource units per accepted report, and the time to
converge beside the budget's lower bound for that burst: every report row and every
site's board item written once, two units each, at --units a minute.

Time: at 1,200 units a minute a 2,000-report burst cannot converge in under about four
minutes, so by default the mirror and the server's budget share a simulated clock that
jumps over waits (Retry-After, pacing, backoff); requests and the machinery's CPU are
real. --real-time runs on the wall clock instead and takes minutes per scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.errors import BcpError
from bot.graph.client import connect
from bot.graph.mirror import Mirror
from bot.graph.provision import provision
from bot.model import (
    LIFELINES,
    SUPPLIES,
    Lifeline,
    Reporter,
    ShelterReport,
    ShelterStatus,
    SupplyLevel,
)
from bot.settings import Settings
from bot.store.sqlite import SqliteJournal
from tests.graph_server import Fault, GraphServer

THROTTLES = (Fault("status", 429, retry_after=2), Fault("status", 503, retry_after=1))
UNITS_PER_WRITE = 2


class SimulatedTime:
    """A clock that sleeping moves forward at once; shared by the mirror and the budget."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class Outcome:
    name: str
    reports: int
    sites: int
    seconds: float
    envelopes: int
    inner: int
    units: int
    throttled: int
    items: int
    keys: int
    item_writes: int
    cpu: float
    wall: float


async def record_burst(journal: SqliteJournal, reports: int, sites: int, seed: int) -> int:
    """Append `reports` reports spread over `sites` sites; return how many sites reported."""
    rng, start, seen = random.Random(seed), datetime(2026, 9, 1, tzinfo=UTC), set()
    for n in range(reports):
        site = f"B{rng.randrange(sites):03}"
        seen.add(site)
        evacuees = rng.randint(0, 500)
        report = ShelterReport(
            site_id=site,
            status=rng.choice([ShelterStatus.OPEN, ShelterStatus.FULL]),
            evacuees=evacuees,
            households=evacuees // 3,
            care_needed=evacuees // 10,
            capacity=500,
            lifelines={name: rng.choice(list(Lifeline)) for name in LIFELINES},
            supplies={name: rng.choice(list(SupplyLevel)) for name in SUPPLIES},
            needs=rng.choice(["", "毛布が足りません"]),
        )
        reporter = Reporter(f"29:staff-{n % 300}", "", f"職員 {n % 300}")
        await journal.append_report(f"burst-{n}", report, reporter, start + timedelta(seconds=n))
    return len(seen)


async def run_scenario(name: str, args: argparse.Namespace, throttle: float) -> Outcome:
    simulated = None if args.real_time else SimulatedTime()
    server = GraphServer(seed=args.seed, units_per_minute=args.units)
    if simulated is not None:
        server.budget.clock = simulated.clock
    with tempfile.TemporaryDirectory() as folder:
        journal = SqliteJournal(Path(folder) / "journal.sqlite3")
        async with server:
            settings = Settings(graph_site_id=server.site_id, graph_base_url=server.url)
            async with connect(settings) as graph:
                lists = (await provision(graph.client, server.site_id)).list_ids
                sites = await record_burst(journal, args.reports, args.sites, args.seed)
                server.reset_records()
                server.budget.spent.clear()
                if throttle:
                    server.faults.only = lambda method, path: "/items" in path
                    server.faults.randomly(throttle, THROTTLES)

                timing = {} if simulated is None else {
                    "clock": simulated.clock, "sleep": simulated.sleep
                }
                mirror = Mirror(journal, graph.client, server.site_id,
                                units_per_minute=args.units, list_ids=lists,
                                rng=random.Random(args.seed), **timing)
                clock = simulated.clock if simulated else time.monotonic
                started, cpu, wall = clock(), time.process_time(), time.perf_counter()
                await drain(mirror, simulated)
                seconds = clock() - started
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await journal.close()

    flat = server.flat_requests()
    live = [i for lists_ in server.state.sites.values() for gl in lists_ for i in gl.live_items()]
    keys = {(i.fields.get("SiteId"), i.fields.get("Key")) for i in live}
    return Outcome(
        name=name, reports=args.reports, sites=sites, seconds=seconds,
        envelopes=len(server.requests), inner=len(flat), units=server.units,
        throttled=sum(r.status in (429, 503) for r in flat),
        items=len(live), keys=len(keys),
        item_writes=sum(1 for r in server.writes() if "/items" in r.path),
        cpu=cpu, wall=wall,
    )


async def drain(mirror: Mirror, simulated: SimulatedTime | None) -> None:
    """Run passes as Mirror.run does until the outbox is empty."""
    sleep = simulated.sleep if simulated else asyncio.sleep
    failures = 0
    while True:
        try:
            result = await mirror.drain_once()
        except BcpError:
            failures += 1
            await sleep(min(60.0, 2.0 ** failures))
            continue
        if result.idle:
            return
        await sleep(result.wait)


def print_outcomes(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    first = outcomes[0]
    writes_needed = first.reports + first.sites
    units_needed = UNITS_PER_WRITE * writes_needed
    bound = units_needed / args.units * 60
    clock = "wall clock" if args.real_time else "simulated clock"
    print(f"Burst of {first.reports} reports over {first.sites} sites; budget {args.units} "
          f"resource units a minute ({clock}).")
    print(f"Budget's lower bound: {writes_needed} item writes x {UNITS_PER_WRITE} units = "
          f"{units_needed} units at {args.units} a minute -> {bound:.0f} s "
          f"({bound / 60:.1f} min).")
    print("(The pacer starts with a tenth of a minute's budget in hand, so a small burst can "
          "beat the bound a little\nwithout any minute going over the budget.)\n")
    header = (f"{'scenario':<28}{'converged':>11}{'x bound':>9}{'req/report':>12}"
              f"{'inner/report':>14}{'units/report':>14}{'budget use':>12}{'429/503':>9}"
              f"{'tries/item':>12}{'exact':>7}{'cpu s':>7}")
    print(header)
    print("-" * len(header))
    for o in outcomes:
        use = o.units / (o.seconds / 60 * args.units) if o.seconds else 0.0
        print(f"{o.name:<28}{o.seconds:>10.0f}s{o.seconds / bound:>9.2f}"
              f"{o.envelopes / o.reports:>12.3f}{o.inner / o.reports:>14.3f}"
              f"{o.units / o.reports:>14.2f}{use:>12.0%}{o.throttled:>9}"
              f"{o.item_writes / o.items:>12.3f}"
              f"{'yes' if o.items == o.keys == writes_needed else 'NO':>7}{o.cpu:>7.1f}")
    print(
        "\nreq/report: HTTP requests ($batch envelopes) per accepted report; inner/report:\n"
        "requests inside them (writes and Key look-ups); units/report: resource units the\n"
        "server charged; budget use: units charged over the budget for the time taken;\n"
        "tries/item: item writes sent per list item, refused ones included; exact: one item\n"
        "per report and per site, no duplicates."
    )


async def main_async(args: argparse.Namespace) -> list[Outcome]:
    outcomes = [await run_scenario("no injected throttling", args, 0.0)]
    if args.throttle:
        name = f"{args.throttle:.0%} throttled (429/503)"
        outcomes.append(await run_scenario(name, args, args.throttle))
    return outcomes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.graph_burst", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--units", type=int, default=1200, help="resource units a minute")
    parser.add_argument("--throttle", type=float, default=0.2,
                        help="share of item requests answered 429/503 in the second scenario")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--real-time", action="store_true",
                        help="wait on the wall clock instead of the simulated one")
    args = parser.parse_args(argv)
    print_outcomes(asyncio.run(main_async(args)), args)


if __name__ == "__main__":
    main()
