"""The processes a benchmark run starts: the bot under test, the echo baselines, the load.

Each target runs alone in its own process so its memory and CPU are its own: peak RSS
is the kernel's high-water mark (VmHWM) and CPU is user plus system time, both read
from /proc (Linux). Every wait here is bounded, and every process started is stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Settings the bot reads; none may leak in from the shell that runs the benchmark.
BOT_ENV_PREFIXES = ("BCP_", "MicrosoftApp", "PORT")


@dataclass
class Target:
    """A running bot process: BCP Board or an echo baseline."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_mb(self) -> float | None:
        """Return the process's peak resident memory (VmHWM) in MB."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.pid)

    def log_errors(self) -> int:
        """Count ERROR lines and tracebacks the process wrote to its log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines()
                   if " ERROR " in line or line.startswith("Traceback"))

    async def stop(self, timeout: float = 40.0) -> None:
        """Ask the process to stop (SIGTERM: the app closes the journal), then insist."""
        if self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()


def process_cpu_seconds(pid: int) -> float | None:
    """Return user + system CPU seconds of a process (all its threads), from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(BOT_ENV_PREFIXES)}
    env.update(extra)
    return env


async def start_bot(workdir: Path, registry: Path, extra_env: dict[str, str],
                    script: Path = REPO / "app.py") -> Target:
    """Start BCP Board (python app.py) on a free port with a fresh journal in `workdir`.

    `script` replaces app.py, e.g. to measure a proposed change before it lands.
    """
    port = free_port()
    env = clean_env({
        "PORT": str(port),
        "BCP_DATABASE": str(workdir / "journal.sqlite3"),
        "BCP_SITES": str(registry),
        "BCP_LOG_LEVEL": "WARNING",
        **extra_env,
    })
    return await _start("BCP Board", [sys.executable, str(script)], env, port,
                        workdir / "bot.log")


async def start_echo(workdir: Path, corrected: bool) -> Target:
    port = free_port()
    command = [sys.executable, "-m", "bench.echo_bot", "--port", str(port)]
    name = "echo corrected" if corrected else "echo stock"
    return await _start(name, command + (["--corrected"] if corrected else []),
                        clean_env({}), port, workdir / f"{name.replace(' ', '-')}.log")


async def _start(name: str, command: list[str], env: dict[str, str], port: int,
                 log_path: Path) -> Target:
    log = log_path.open("wb")
    try:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        log.close()
    target = Target(name, process, f"http://127.0.0.1:{port}", log_path)
    try:
        await wait_healthy(target)
    except BaseException:
        await target.stop()
        raise
    return target


async def wait_healthy(target: Target, timeout: float = 60.0) -> None:
    """Wait until GET /healthz answers 200; raise RuntimeError if it dies or never does."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if target.process.returncode is not None:
                raise RuntimeError(f"{target.name} exited with {target.process.returncode}; "
                                   f"see {target.log_path}")
            try:
                async with session.get(target.url + "/healthz") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{target.name} did not answer /healthz within {timeout:.0f} s")


async def run_load(arguments: list[str], timeout: float, log_path: Path) -> float:
    """Run the load generator (python -m bench.load ...) to its end; return its wall time."""
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.load", *arguments, cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            code = await asyncio.wait_for(process.wait(), timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise RuntimeError(f"the load generator ran past {timeout:.0f} s; see {log_path}")
        except BaseException:
            process.kill()
            await process.wait()
            raise
    if code != 0:
        raise RuntimeError(f"the load generator failed ({code}); see {log_path}")
    return time.monotonic() - started


class Profiler:
    """py-spy recording a target while the load runs (raw collapsed stacks, bench.profile)."""

    def __init__(self, pid: int, out: Path):
        self.pid, self.out = pid, out
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> "Profiler":
        py_spy = Path(sys.executable).with_name("py-spy")
        if not py_spy.exists():
            raise RuntimeError("--profile needs py-spy in the virtualenv: pip install py-spy")
        self.process = await asyncio.create_subprocess_exec(
            str(py_spy), "record", "--pid", str(self.pid), "--rate", "100", "--format", "raw",
            "--nonblocking", "--output", str(self.out), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        return self

    async def __aexit__(self, *exc_info) -> None:
        # NOTE: py-spy writes its output when interrupted (SIGINT), not when terminated.
        self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
