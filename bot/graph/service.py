"""The Graph mirror inside the running app: the outbox worker and the delta poller.

Started by bot/services.py when BCP_GRAPH_SITE_ID is set, stopped with the app. Neither
task ever blocks a report: a report is committed with its outbox rows first, and the
worker is only woken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from bot.corrections import Corrections
from bot.graph.client import GraphConnection, connect
from bot.graph.delta import DeltaPoller
from bot.graph.lists import SITES_BOARD, SUPPLY_REQUESTS
from bot.graph.mirror import Mirror
from bot.graph.request_edits import RequestEdits
from bot.graph.stale import JOB as STALE_JOB
from bot.graph.stale import StaleFlags
from bot.reports import Reports
from bot.scheduler import Clock, Scheduler, SystemClock
from bot.settings import Settings
from bot.store import Journal
from bot.supply_requests import SupplyRequests

log = logging.getLogger(__name__)

# At shutdown, a batch in flight gets this long to finish before it is cancelled; its
# rows stay in the outbox either way.
STOP_TIMEOUT = 5.0


@dataclass
class GraphMirroring:
    connection: GraphConnection
    mirror: Mirror
    poller: DeltaPoller
    corrections: Corrections
    journal: Journal
    clock: Clock
    tasks: tuple[asyncio.Task, ...] = ()

    @classmethod
    def start(
        cls,
        settings: Settings,
        reports: Reports,
        requests: SupplyRequests,
        scheduler: Scheduler,
    ) -> GraphMirroring:
        """Connect to Graph and start both loops; raise ConfigurationError on bad settings.

        HQ's edits of the Sites board become corrections of reports, and those of the
        Supply requests list moves of requests. The stale flags of the Sites board are
        checked on `scheduler`, as often as the board's own stale check.
        """
        clock = scheduler.clock
        connection = connect(settings)
        seconds, sleep = _timing(clock)
        corrections = Corrections(reports)
        poller = DeltaPoller(
            reports.journal,
            connection.client,
            settings.graph_site_id,
            {SITES_BOARD.key: corrections.apply, SUPPLY_REQUESTS.key: RequestEdits(requests).apply},
            interval=settings.graph_poll_interval,
            clock=seconds,
            sleep=sleep,
        )
        mirror = Mirror(
            reports.journal,
            connection.client,
            settings.graph_site_id,
            units_per_minute=settings.graph_units_per_minute,
            max_attempts=settings.graph_max_attempts,
            clock=seconds,
            sleep=sleep,
            on_conflict=poller.wake,
            now=clock.now,
        )
        corrections.wake = mirror.wake
        reports.listeners.append(mirror.on_report)
        requests.created_listeners.append(mirror.on_report)
        requests.moved_listeners.append(mirror.on_move)
        stale = StaleFlags(reports, mirror.wake)
        scheduler.every(settings.stale_check_every.total_seconds(), STALE_JOB, stale.check)
        tasks = (
            asyncio.create_task(mirror.run(), name="bcp-graph-mirror"),
            asyncio.create_task(poller.run(), name="bcp-graph-delta"),
        )
        log.info(
            "Graph mirroring on: site %s at %s, %d resource units a minute, polling HQ "
            "edits every %g s",
            settings.graph_site_id, settings.graph_base_url,
            settings.graph_units_per_minute, settings.graph_poll_interval,
        )
        return cls(connection, mirror, poller, corrections, reports.journal, clock, tasks)

    async def stop(self) -> None:
        """Stop both loops (a batch in flight may finish), then close the connection."""
        self.mirror.stop()
        self.poller.stop()
        _, pending = await asyncio.wait(self.tasks, timeout=STOP_TIMEOUT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if pending:
            log.warning("shutdown: a Graph batch was still in flight; its rows stay queued")
        await self.connection.close()

    async def health(self) -> dict:
        """Return the mirror's state for /healthz: lag, pending, parked, the poller."""
        stats = await self.journal.outbox_stats()
        oldest = stats.get("oldest_enqueued_at")
        lag = None
        if oldest:
            lag = max(0.0, (self.clock.now() - datetime.fromisoformat(oldest)).total_seconds())
        return {
            "mirroring": "on",
            "pending": stats["pending"],
            "parked": stats["parked"],
            "lag_seconds": None if lag is None else round(lag, 1),
            **self.mirror.status(),
            "corrections": self.corrections.applied,
            "delta": self.poller.status(),
        }


def _timing(clock: Clock):
    """Return (seconds, sleep) for the mirror's pacing and pauses on the app's clock.

    The real clock uses monotonic time, which wall-clock adjustments cannot move; a
    test's manual clock drives the mirror as it drives the scheduler.
    """
    if isinstance(clock, SystemClock):
        return time.monotonic, asyncio.sleep
    return (lambda: clock.now().timestamp()), clock.sleep
