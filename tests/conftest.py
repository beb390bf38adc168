"""Shared fixtures: a clean environment, the local connector, the real app on loopback."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.scheduler import Clock
from bot.services import Services
from bot.settings import Settings
from bot.web import SERVICES, create_app
from tests.support.clock import ManualClock
from tests.support.connector import LocalConnector
from tests.support.teams import BotClient

ENV_PREFIXES = ("BCP_", "MicrosoftApp", "PORT")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Run every test with none of the bot's settings inherited from the shell."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free loopback port; return the runner and its base URL."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def connector():
    local = LocalConnector()
    runner, url = await serve(local.app())
    local.url = url + "/"
    yield local
    await runner.cleanup()


class RunningBot:
    """The real app on loopback; `restart()` stops it and starts a new one on the same files.

    Given a `ManualClock`, its timed work runs only when the test moves the clock.
    """

    def __init__(self, settings: Settings, connector: LocalConnector, clock: Clock | None = None):
        self.settings = settings
        self.connector = connector
        self.clock = clock
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.app: web.Application | None = None

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    async def settle(self) -> None:
        """Wait until the timed work that is due now has run."""
        await self.services.scheduler.settle()

    async def advance(self, seconds: float) -> None:
        """Move the manual clock forward and run what became due."""
        self.clock.advance(seconds)
        await self.settle()

    async def health(self) -> dict:
        async with self.session.get(f"{self.url}/healthz") as response:
            assert response.status == 200
            return await response.json()

    async def start(self) -> None:
        self.app = create_app(self.settings, clock=self.clock)
        self.runner, self.url = await serve(self.app)
        self.session = aiohttp.ClientSession()
        self.client = BotClient(self.session, self.url, self.connector.url)

    async def stop(self) -> None:
        await self.session.close()
        await self.runner.cleanup()

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database=tmp_path / "journal" / "bcp.sqlite3")


@pytest.fixture
async def running_bot(settings, connector):
    bot = RunningBot(settings, connector)
    await bot.start()
    yield bot
    await bot.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def start_bot(settings, connector, clock):
    """Start the real app on the manual clock, with `settings` changed as asked."""
    started: list[RunningBot] = []

    async def start(**changes) -> RunningBot:
        bot = RunningBot(replace(settings, **changes), connector, clock)
        await bot.start()
        started.append(bot)
        return bot

    yield start
    for bot in started:
        await bot.stop()
