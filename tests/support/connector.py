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
    """One request: `activity_id` is the one addressed (PUT), `answered_id` the one given."""

    method: str
    conversation_id: str
    activity_id: str | None
    body: dict
    answered_id: str | None = None
    status: int = 200


@dataclass
class LocalConnector:
    """Record the bot's outgoing activities, per conversation."""

    requests: list[Recorded] = field(default_factory=list)
    # Requests answered with a fault; they are not in `requests`.
    refused: list[Recorded] = field(default_factory=list)
    # (method, status, headers[, conversation_id]) answers to give, each once, before
    # normal service resumes; without a conversation id any conversation matches.
    faults: list[tuple] = field(default_factory=list)
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

    def fail(
        self, method: str, status: int, headers: dict | None = None, conversation_id: str = ""
    ) -> None:
        """Answer the next `method` request (to `conversation_id`, if given) with `status`."""
        self.faults.append((method, status, headers or {}, conversation_id))

    def _fault(self, method: str, conversation_id: str) -> tuple[int, dict] | None:
        for index, (fault_method, status, headers, *only) in enumerate(self.faults):
            if fault_method == method and (not only or only[0] in ("", conversation_id)):
                del self.faults[index]
                return status, headers
        return None

    async def _record(self, request: web.Request, method: str) -> web.Response:
        body = await request.json()
        conversation_id = request.match_info["conversation"]
        addressed = request.match_info.get("activity")
        fault = self._fault(method, conversation_id)
        if fault is not None:
            status, headers = fault
            self.refused.append(Recorded(method, conversation_id, addressed, body, status=status))
            self._arrived.set()
            return web.json_response(
                {"error": {"code": "Injected", "message": "injected fault"}},
                status=status,
                headers=headers,
            )
        answered_id = addressed if method == "PUT" else f"activity-{next(self._ids)}"
        self.requests.append(Recorded(method, conversation_id, addressed, body, answered_id))
        self._arrived.set()
        return web.json_response({"id": answered_id})

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
