"""app.py as an operator runs it: a real process, configured from the environment."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.model import LIFELINES, SUPPLIES
from tests.support.teams import TeamsUser, activity

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def wait_healthy(url: str, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"app.py exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.1)
    raise AssertionError("app.py did not become healthy")


@pytest.fixture
def app_process(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BCP_", "MicrosoftApp"))},
        "PORT": str(port),
        "BCP_DATABASE": str(tmp_path / "db" / "journal.sqlite3"),
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    yield process, port, tmp_path
    if process.poll() is None:
        process.kill()
        process.wait()


def test_app_serves_reports_and_stops_cleanly_on_sigterm(app_process):
    process, port, folder = app_process
    base = f"http://127.0.0.1:{port}"
    health = wait_healthy(f"{base}/healthz", process)
    assert health["ok"] and health["details"]["sites"] >= 20

    data = {"site_id": "S001", "submission_id": "sub-1", "lang": "ja", "status": "open",
            "evacuees": "42", "households": "15", "care_needed": "2", "capacity": "", "needs": ""}
    data.update({f"lifeline_{n}": "ok" for n in LIFELINES})
    data.update({f"supply_{n}": "ok" for n in SUPPLIES})
    value = {"action": {"type": "Action.Execute", "verb": "report_save", "data": data}}
    status, body = post(
        f"{base}/api/messages",
        activity("invoke", "http://127.0.0.1:9/", TeamsUser("29:a", "A"), name="adaptiveCard/action", value=value),
    )
    assert status == 200 and "報告を受け付けました" in json.dumps(body, ensure_ascii=False)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    log = process.stderr.read()
    assert "anonymous local mode" in log
    assert "journal closed" in log

    with sqlite3.connect(folder / "db" / "journal.sqlite3") as db:
        assert db.execute("SELECT evacuees FROM reports").fetchall() == [(42,)]


def test_bad_setting_stops_startup_with_a_message(tmp_path):
    env = {**os.environ, "BCP_STALE_AFTER": "soon"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "BCP_STALE_AFTER='soon'" in result.stderr


def test_busy_port_stops_startup_with_a_message_naming_it(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "PORT": str(port), "BCP_DATABASE": str(tmp_path / "bcp.sqlite3")}
        result = subprocess.run(
            [sys.executable, str(ROOT / "app.py")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
