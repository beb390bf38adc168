"""app.py killed in the middle of a Graph batch, then started again: the lists converge.

A real process with Graph configured from the environment, pointed at the loopback
Graph server of this test. The first $batch is held by the server; the app is killed
with SIGKILL while it waits, and the server then applies the batch with nobody left to
hear the answer. The restarted app must finish the drain without a duplicate item.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp

from bot.graph.provision import provision
from bot.model import LIFELINES, SUPPLIES
from bot.store.sqlite import SqliteJournal
from tests.support.teams import TeamsUser, activity
from tests.test_app_process import ROOT, free_port
from tests.test_graph_app import assert_lists_equal_the_journal

pytest_plugins = ["tests.graph_server.fixtures"]

ROUNDS = 400


class _Journal:
    """What assert_lists_equal_the_journal needs of a running bot: its journal."""

    def __init__(self, journal):
        self.services = type("Services", (), {"journal": journal})


async def start_app(env: dict, folder) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "app.py"), cwd=folder, env={**env, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


async def health(session: aiohttp.ClientSession, url: str) -> dict | None:
    try:
        async with session.get(f"{url}/healthz") as response:
            return await response.json()
    except aiohttp.ClientError:
        return None


async def until(condition, what: str):
    for _ in range(ROUNDS):
        value = await condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting: {what}")


def report_activity(n: int) -> dict:
    data = {"site_id": f"S00{n % 4 + 1}", "submission_id": f"kill-{n}", "lang": "ja",
            "status": "open", "evacuees": str(40 + n), "households": "10", "care_needed": "1",
            "capacity": "", "needs": ""}
    data.update({f"lifeline_{name}": "ok" for name in LIFELINES})
    data.update({f"supply_{name}": "low" for name in SUPPLIES})
    value = {"action": {"type": "Action.Execute", "verb": "report_save", "data": data}}
    user = TeamsUser(f"29:staff-{n}", f"職員 {n}")
    return activity("invoke", "http://127.0.0.1:9/", user, name="adaptiveCard/action", value=value)


async def test_app_killed_mid_drain_and_restarted_converges_without_duplicates(
    graph, graph_server, tmp_path
):
    await provision(graph.client, graph_server.site_id)
    database = tmp_path / "db" / "journal.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BCP_", "MicrosoftApp"))},
        "BCP_DATABASE": str(database),
        "BCP_GRAPH_SITE_ID": graph_server.site_id,
        "BCP_GRAPH_BASE_URL": graph_server.url,
    }
    graph_server.reset_records()
    graph_server.faults.only = lambda method, path: path == "/$batch"
    graph_server.faults.slow(1, seconds=1.0)

    process, url = await start_app(env, tmp_path)
    async with aiohttp.ClientSession() as session:
        try:
            await until(lambda: health(session, url), "the app to answer /healthz")
            # Six reports go out in the first batch, which Graph holds; six more wait in
            # the outbox when the app dies.
            for n in range(12):
                async with session.post(f"{url}/api/messages", json=report_activity(n)) as answer:
                    assert answer.status == 200
                if n == 5:
                    await until(
                        lambda: asyncio.sleep(
                            0, [r for r in graph_server.requests if r.path == "/$batch"]
                        ),
                        "the first batch to reach Graph",
                    )
            process.send_signal(signal.SIGKILL)
            await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

        # The held batch is applied after the app died; its answer went nowhere.
        applied = await until(
            lambda: asyncio.sleep(0, graph_server.state.rows(graph_server.site_id, "BcpReports")),
            "Graph to apply the held batch",
        )
        assert 0 < len(applied) < 12

        process, url = await start_app(env, tmp_path)
        try:
            async def drained():
                answer = await health(session, url)
                return answer and answer["details"]["graph"]["pending"] == 0 and answer

            final = await until(drained, "the restarted app to drain the outbox")
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()

    assert final["details"]["graph"]["parked"] == 0
    assert final["details"]["reports"] == 12
    journal = SqliteJournal(database)
    try:
        await assert_lists_equal_the_journal(_Journal(journal), graph_server)
    finally:
        await journal.close()
