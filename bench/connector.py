"""The benchmark's Bot Framework connector: where the bot's replies and card updates land.

It runs on 127.0.0.1 inside bench.run, answers what the connector client sends (new
messages, replies, updates, new conversations) at once, and keeps only what the figures
need: method, conversation and arrival time, never the bodies.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Arrival:
    method: str
    conversation_id: str
    at: float


@dataclass
class BenchConnector:
    arrivals: list[Arrival] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_post("/v3/conversations", self._create)
        return app

    def reset(self) -> None:
        self.arrivals.clear()

    def count(self, method: str) -> int:
        return sum(1 for arrival in self.arrivals if arrival.method == method)

    def updates_by_conversation(self) -> dict[str, list[float]]:
        """Return the arrival times of activity updates (PUT), by conversation."""
        return self._by_conversation("PUT")

    def posts_by_conversation(self) -> dict[str, list[float]]:
        """Return the arrival times of new messages (POST), by conversation."""
        return self._by_conversation("POST")

    def _by_conversation(self, method: str) -> dict[str, list[float]]:
        times: dict[str, list[float]] = defaultdict(list)
        for arrival in self.arrivals:
            if arrival.method == method:
                times[arrival.conversation_id].append(arrival.at)
        return dict(times)

    async def _record(self, request: web.Request, method: str) -> web.Response:
        await request.read()
        conversation = request.match_info.get("conversation", "")
        self.arrivals.append(Arrival(method, conversation, time.monotonic()))
        activity_id = request.match_info.get("activity") if method == "PUT" else None
        return web.json_response({"id": activity_id or f"activity-{next(self._ids)}"})

    async def _post(self, request: web.Request) -> web.Response:
        return await self._record(request, "POST")

    async def _put(self, request: web.Request) -> web.Response:
        return await self._record(request, "PUT")

    async def _create(self, request: web.Request) -> web.Response:
        await self._record(request, "CREATE")
        return web.json_response(
            {"id": f"created-{next(self._ids)}", "activityId": f"activity-{next(self._ids)}"}
        )


def most_in_window(times: list[float], window: float) -> int:
    """Return the most arrivals that fall within any `window` seconds."""
    ordered, most, start = sorted(times), 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def closest_gap(times: list[float]) -> float | None:
    """Return the shortest time between two arrivals, or None with fewer than two."""
    ordered = sorted(times)
    return min((b - a for a, b in zip(ordered, ordered[1:])), default=None)
