"""A local Bot Framework connector: the serviceUrl the bot answers to in tests.

It accepts what the connector client sends (new messages, replies, updates) on
loopback, records every request, and can answer with faults on demand.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Recorded:
    method: str
    conversation_id: str
    activity_id: str | None
    body: dict


@dataclass
class LocalConnector:
    """Record the bot's outgoing activities, per conversation."""

    requests: list[Recorded] = field(default_factory=list)
    # (method, status, headers) answers to give before normal service resumes.
    faults: list[tuple[str, int, dict]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_post("/v3/conversations", self._create)
        return app

    def sent(self, conversation_id: str | None = None) -> list[dict]:
        """Return the activities the bot posted (not updates), oldest first."""
        return [
            r.body
            for r in self.requests
            if r.method == "POST" and conversation_id in (None, r.conversation_id)
        ]

    def updates(self, conversation_id: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.method == "PUT" and conversation_id in (None, r.conversation_id)
        ]

    def cards(self, conversation_id: str | None = None) -> list[dict]:
        """Return the Adaptive Cards the bot posted, oldest first."""
        return [
            attachment["content"]
            for activity in self.sent(conversation_id)
            for attachment in activity.get("attachments") or ()
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least `count` requests have arrived."""
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def _fault(self, method: str) -> web.Response | None:
        for index, (fault_method, status, headers) in enumerate(self.faults):
            if fault_method == method:
                del self.faults[index]
                return web.json_response(
                    {"error": {"code": "Injected", "message": "injected fault"}},
                    status=status,
                    headers=headers,
                )
        return None

    async def _record(self, request: web.Request, method: str) -> web.Response:
        body = await request.json()
        fault = self._fault(method)
        if fault is not None:
            return fault
        self.requests.append(
            Recorded(
                method,
                request.match_info["conversation"],
                request.match_info.get("activity"),
                body,
            )
        )
        self._arrived.set()
        activity_id = request.match_info.get("activity") if method == "PUT" else None
        return web.json_response({"id": activity_id or f"activity-{next(self._ids)}"})

    async def _post(self, request: web.Request) -> web.Response:
        return await self._record(request, "POST")

    async def _put(self, request: web.Request) -> web.Response:
        return await self._record(request, "PUT")

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation_id = f"created-{next(self._ids)}"
        self.requests.append(Recorded("CREATE", conversation_id, None, body))
        self._arrived.set()
        return web.json_response({"id": conversation_id, "activityId": f"activity-{next(self._ids)}"})


def conversation_counts(requests: list[Recorded], method: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for request in requests:
        if request.method == method:
            counts[request.conversation_id] += 1
    return dict(counts)
