"""Shared fixtures: a clean environment, the local connector, the real app on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.settings import Settings
from bot.web import create_app
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
    """The real app on loopback; `restart()` stops it and starts a new one on the same files."""

    def __init__(self, settings: Settings, connector: LocalConnector):
        self.settings = settings
        self.connector = connector
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.app: web.Application | None = None

    async def start(self) -> None:
        self.app = create_app(self.settings)
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
