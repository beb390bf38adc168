"""Start the bot (app.py) and the Agents Playground as real processes on free loopback ports.

Each end-to-end test gets its own pair, with its own journal, so no test sees another's
reports. Both processes are stopped when the test ends, also when it fails; their logs
are kept in the test's artifacts folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_CONFIG = ROOT / ".m365agentsplayground.yml"
PLAYGROUND_LAUNCHER = ROOT / "scripts" / "playground.mjs"
READY = re.compile(r"Playground ready at (http://127\.0\.0\.1:\d+)")
STARTUP_SECONDS = 30


class StackError(AssertionError):
    """A process of the end-to-end stack did not start; the message says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str, expected: bytes | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return expected is None or response.read().strip() == expected
    except OSError:
        return False


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return f"({path} was not written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    """The bot and the Playground pointed at it, started by `start()`, ended by `stop()`."""

    folder: Path
    playground_config: Path = PLAYGROUND_CONFIG
    bot_url: str = ""
    playground_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> Stack:
        """Start both processes side by side and wait until each one answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        wait_for_bot = self._start_bot()
        wait_for_playground = self._start_playground()
        wait_for_bot()
        wait_for_playground()
        return self

    def stop(self) -> None:
        """Stop the bot, then the Playground: SIGTERM, and SIGKILL after five seconds.

        The bot goes first so that its last turns can still reach the Playground.
        """
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()

    def _spawn(self, args: list[str], log: Path, **options) -> subprocess.Popen:
        with log.open("wb") as output:
            process = subprocess.Popen(
                args, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **options
            )
        self.processes.append(process)
        return process

    def _start_bot(self):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BCP_", "MicrosoftApp"))}
        env.update(
            PORT=str(port),
            BCP_DATABASE=str(self.folder / "journal.sqlite3"),
            # NOTE: the Playground always sends locale en-US; the mock city speaks Japanese.
            BCP_DEFAULT_LOCALE="ja",
            # Live boards update at most once per interval; keep the tests quick.
            BCP_BOARD_INTERVAL="0.3s",
        )
        log = self.folder / "bot.log"
        process = self._spawn([sys.executable, str(ROOT / "app.py")], log, cwd=self.folder, env=env)

        self.bot_url = f"http://127.0.0.1:{port}"
        return lambda: self._wait(
            "the bot", process, log, lambda: answers(f"{self.bot_url}/healthz")
        )

    def _start_playground(self):
        if shutil.which("node") is None:
            raise StackError("Node.js is not installed; the Agents Playground needs it.")
        # The Playground reads its config from, and writes devTools/ into, its working folder.
        shutil.copy(self.playground_config, self.folder / PLAYGROUND_CONFIG.name)
        log = self.folder / "playground.log"
        process = self._spawn(
            [
                "node",
                str(PLAYGROUND_LAUNCHER),
                "--bot",
                f"{self.bot_url}/api/messages",
                "--port",
                str(free_port()),
            ],
            log,
            cwd=self.folder,
        )

        # NOTE: the Playground takes another port when its own is busy, and with a bad
        # config it prints its banner and exits: trust only the launcher's ready line,
        # then the ping endpoint itself.
        def ready() -> bool:
            found = READY.search(log.read_text(errors="replace"))
            if found:
                self.playground_url = found.group(1)
            return bool(found) and answers(f"{self.playground_url}/_debug/ping", b"pong")

        return lambda: self._wait("the Agents Playground", process, log, ready)

    def _wait(self, name: str, process: subprocess.Popen, log: Path, ready) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}:\n{tail(log)}")
            if ready():
                return
            time.sleep(0.05)
        raise StackError(f"{name} did not answer within {STARTUP_SECONDS} s:\n{tail(log)}")
