"""The Graph side of a run: the Graph-compatible server, and the mirror's figures.

The figures need a Graph mirror in the bot (code under bot/graph/) and the test server
in tests/graph_server/. Without either, every Graph column says why it is empty and the
bot runs with mirroring off, exactly as it does without BCP_GRAPH_SITE_ID.

With both, the server runs on 127.0.0.1 inside bench.run with SharePoint's resource-unit
budget (--graph-units a minute), optionally failing a share of requests; `python -m bot
provision` creates the lists on it, and the bot gets BCP_GRAPH_BASE_URL,
BCP_GRAPH_SITE_ID and BCP_GRAPH_UNITS_PER_MINUTE for it. After the load, the run polls
the bot's /healthz until its outbox is empty (the lists have converged), the drain
stalls, or --graph-wait seconds pass, sampling the units the server has charged. A bot
that sends Graph nothing at all is reported as not running a mirror.
"""

from __future__ import annotations

import asyncio
import importlib.util
import pkgutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.processes import REPO, clean_env

STALL = 30.0

NOT_BUILT = "n/a (not built)"


def mirror_status() -> str | None:
    """Return None when the Graph figures can be measured, else why not."""
    if not any(pkgutil.iter_modules([str(REPO / "bot" / "graph")])):
        return NOT_BUILT
    if importlib.util.find_spec("tests.graph_server") is None:
        return "n/a (no tests/graph_server)"
    return None


def publisher_status() -> str | None:
    """Return None when the board publisher exists to be measured, else why not."""
    return None if (REPO / "bot" / "publisher.py").exists() else NOT_BUILT


@dataclass
class GraphSide:
    """One scenario's Graph-compatible server and its drain timeline."""

    units_per_minute: int
    fault_rate: float = 0.0
    seed: int = 0
    server: object = None
    timeline: list[tuple[float, int, int]] = field(default_factory=list)

    status: str | None = None

    async def start(self, log_path: Path) -> dict[str, str]:
        """Start the server and provision the lists; return the bot's Graph environment."""
        from tests.graph_server import GraphServer

        self.server = GraphServer(seed=self.seed, units_per_minute=self.units_per_minute)
        await self.server.start()
        env = {
            "BCP_GRAPH_BASE_URL": self.server.url,
            "BCP_GRAPH_SITE_ID": self.server.site_id,
            "BCP_GRAPH_UNITS_PER_MINUTE": str(self.units_per_minute),
        }
        if not await _provision(env, log_path):
            self.status = f"n/a (provisioning failed, see {log_path.name})"
        self.server.reset_records()
        if self.fault_rate:
            self.server.faults.randomly(self.fault_rate)
        return env

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def wait_converged(self, bot_url: str, limit: float) -> float | None:
        """Poll the bot's outbox once a second; return seconds until it was empty, or None.

        Gives up after `limit` seconds, or when neither the outbox nor the units spent
        have moved for STALL seconds.
        """
        if not self.server.requests:
            self.status = "n/a (mirror not running: no Graph requests)"
            return None
        started = moved = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while time.monotonic() - started < limit and time.monotonic() - moved < STALL:
                pending = await _pending(session, bot_url)
                now = time.monotonic()
                if self.timeline and self.timeline[-1][1:] != (self.server.units, pending):
                    moved = now
                self.timeline.append((now, self.server.units, pending))
                if pending == 0:
                    return now - started
                await asyncio.sleep(1.0)
        return None

    def figures(self, accepted: int, converged_after: float | None, limit: float) -> dict:
        if self.status is not None:
            return {"status": self.status}
        server = self.server
        flat = server.flat_requests()
        item_writes = [r for r in server.writes() if "/items" in r.path]
        items = sum(len(graph_list.items) for lists in server.state.sites.values()
                    for graph_list in lists)
        # A write "changed an item" when it created one or changed one of its fields; any
        # other attempt (throttled, failed, refused, or landing with nothing new) is waste.
        landed, unchanged = server.state.item_writes_landed, server.state.item_writes_unchanged
        changed = landed - unchanged
        return {
            "requests": len(flat),
            "requests_per_report": len(flat) / accepted if accepted else None,
            "item_writes": len(item_writes),
            "item_writes_landed": landed,
            "item_writes_unchanged": unchanged,
            "item_writes_not_landed": dict(Counter(
                str(r.status or r.fault or "no answer") for r in item_writes
                if not 200 <= r.status < 300
            )),
            "items": items,
            "writes_per_item": len(item_writes) / changed if changed else None,
            "faults": dict(server.faults.injected),
            "converged_after": converged_after,
            "wait_limit": limit,
            "drain_share": self._drain_share(),
        }

    def _drain_share(self) -> float | None:
        """Return units charged a minute while a backlog was waiting, over the budget."""
        spent = seconds = 0.0
        for (t0, units0, pending0), (t1, units1, _) in zip(self.timeline, self.timeline[1:]):
            if pending0 > 0:
                spent += units1 - units0
                seconds += t1 - t0
        if seconds < 10:
            return None
        return spent / seconds * 60 / self.units_per_minute


async def _pending(session: aiohttp.ClientSession, bot_url: str) -> int:
    try:
        async with session.get(bot_url + "/healthz") as response:
            health = await response.json()
        return int(health["details"]["outbox"]["pending"])
    except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, TypeError, ValueError):
        return -1


async def _provision(env: dict[str, str], log_path: Path, timeout: float = 120.0) -> bool:
    """Run `python -m bot provision` against the server; return True when it succeeded."""
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "provision", cwd=REPO, env=clean_env(env),
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            return await asyncio.wait_for(process.wait(), timeout) == 0
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            return False
