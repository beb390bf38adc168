"""Fixtures for the end-to-end tests: the running stack, the Playground client, Chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.playground import Playground
from tests.e2e.stack import ROOT, Stack

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def artifacts(request) -> Path:
    """Return an empty folder under test-artifacts/ for this test's screenshots and logs."""
    name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / "e2e" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def stack(tmp_path, artifacts):
    """Start the bot and the Playground for one test; stop them and keep their logs after.

    A turn the bot logged as failed fails the test, even when the user saw an apology.
    """
    running = Stack(tmp_path / "stack")
    try:
        yield running.start()
    finally:
        running.stop()
        for log in ("bot.log", "playground.log"):
            if (running.folder / log).exists():
                shutil.copy(running.folder / log, artifacts / log)
    bot_log = (artifacts / "bot.log").read_text(errors="replace").splitlines()
    errors = [line for line in bot_log if " ERROR " in line or "outcome=failed" in line]
    assert not errors, "the bot logged errors:\n" + "\n".join(errors[:10])


@pytest.fixture
async def playground(stack):
    async with Playground(stack.playground_url) as client:
        yield client
        # NOTE: a WebSocket client that leaves just after a message arrived can leave the
        # Playground (0.2.28) holding the bot's request for that message unanswered, and
        # the bot then waits for it when stopped. Stop both while this client listens.
        stack.stop()


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the end-to-end tests drive Debian's chromium. "
            "Install it with `bash scripts/setup --test` (as root), or skip these tests "
            'with -m "not slow".'
        )
    return CHROMIUM
