"""The bot's long-lived parts, built in one place and stopped in order.

Journal and use cases, then what speaks first: the board publisher, critical-need
alerts and stale-site reminders, driven by one scheduler on one clock; then, when Graph
is configured, the mirror of the journal into SharePoint lists and the poller that
brings HQ's edits back. bot/web.py starts them with the app and stops them with it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.alerts import Alerts
from bot.graph.service import GraphMirroring
from bot.checkins import CheckIns
from bot.proactive import Messenger
from bot.publisher import BoardPublisher
from bot.reminders import StaleReminders
from bot.request_notices import RequestNotices
from bot.reports import Reports
from bot.roles import Roles
from bot.scheduler import Clock, Scheduler
from bot.settings import Settings
from bot.sites import Registry, load_registry
from bot.store import Journal, open_journal
from bot.supply_requests import SupplyRequests

log = logging.getLogger(__name__)

# At shutdown, pending board updates and alerts get this long; the rest is abandoned.
FLUSH_TIMEOUT = 5.0


@dataclass
class Services:
    registry: Registry
    journal: Journal
    reports: Reports
    checkins: CheckIns
    requests: SupplyRequests
    roles: Roles
    scheduler: Scheduler
    publisher: BoardPublisher
    alerts: Alerts
    reminders: StaleReminders
    graph: GraphMirroring | None = None

    @classmethod
    async def start(cls, settings: Settings, adapter, clock: Clock) -> "Services":
        """Open the journal, wire the use cases to the publisher, start the scheduler."""
        registry = load_registry(settings.sites)
        journal = open_journal(settings.database)
        reports = Reports(journal, registry, settings.stale_after, clock=clock.now)
        checkins = CheckIns(journal, clock=clock.now)
        requests = SupplyRequests(journal, registry, clock=clock.now)
        scheduler = Scheduler(clock)
        messenger = Messenger(adapter, settings.app_id)
        publisher = BoardPublisher(
            journal, reports, messenger, scheduler, interval=settings.board_interval
        )
        alerts = Alerts(
            journal, registry, publisher, messenger, scheduler, window=settings.board_interval
        )
        reminders = StaleReminders(
            journal,
            reports,
            messenger,
            scheduler,
            publisher,
            every=settings.stale_check_every.total_seconds(),
            zone=ZoneInfo(settings.timezone),
        )
        reports.listeners += [publisher.on_report, alerts.on_report]
        checkins.listeners += [publisher.on_check_in, alerts.on_check_in]
        notices = RequestNotices(journal, registry, publisher, alerts, ZoneInfo(settings.timezone))
        requests.created_listeners += [publisher.on_request, notices.on_created]
        requests.moved_listeners += [publisher.on_request, notices.on_moved]

        await publisher.start()
        reminders.start()
        scheduler.start()
        services = cls(
            registry, journal, reports, checkins, requests, Roles.from_settings(settings),
            scheduler, publisher, alerts, reminders,
        )
        if settings.graph_enabled:
            services.graph = GraphMirroring.start(settings, reports, requests, scheduler)
        return services

    async def stop(self) -> None:
        """Stop timed work and the Graph mirror, flush what is pending, close the journal."""
        await self.scheduler.stop()
        if self.graph is not None:
            await self.graph.stop()
        try:
            await asyncio.wait_for(self._flush(), FLUSH_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning(
                "shutdown: Teams did not answer within %.0fs; pending board updates and "
                "alerts were abandoned (%s, %s)",
                FLUSH_TIMEOUT,
                self.publisher.state(),
                self.alerts.state(),
            )
        await self.journal.close()

    async def _flush(self) -> None:
        await self.alerts.flush()
        await self.publisher.flush()

    async def health(self) -> dict:
        """Return the state of the proactive work and the Graph mirror, for /healthz."""
        graph = {"mirroring": "off"} if self.graph is None else await self.graph.health()
        return {
            "graph": graph,
            "boards": self.publisher.state(),
            "alerts": self.alerts.state(),
            "reminders": self.reminders.state(),
            "scheduled": len(self.scheduler.pending()),
        }
