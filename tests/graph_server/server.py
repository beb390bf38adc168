"""The fake Graph on aiohttp: loopback only, records every request, injects faults."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import unquote

from aiohttp import web

from .batch import run_batch
from .faults import Fault, FaultPlan, UnitBudget
from .odata import GraphHttpError, Reply, bad_request, error_body
from .routes import Call, GraphApi
from .state import DEFAULT_SITE_ID, GraphState

log = logging.getLogger(__name__)
VERSION = "/v1.0"
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class Recorded:
    """One request as the server saw it; inner $batch requests carry their batch id."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: object
    status: int = 0
    units: int = 0
    fault: str = ""
    batch_id: str = ""
    children: list[Recorded] = field(default_factory=list)

    @property
    def is_write(self) -> bool:
        return self.method in WRITES and self.path != "/$batch"


class GraphServer:
    """A Graph-compatible server on 127.0.0.1 for tests and benchmarks.

    Use `async with GraphServer() as server:` in a test, or `run_in_thread()` from
    synchronous code. `server.url` is the value for BCP_GRAPH_BASE_URL.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        site_ids: tuple[str, ...] = (DEFAULT_SITE_ID,),
        port: int = 0,
        page_size: int = 200,
        units_per_minute: int | None = None,
    ):
        self.state = GraphState(site_ids)
        self.api = GraphApi(self.state, page_size)
        self.faults = FaultPlan(seed)
        self.budget = UnitBudget(units_per_minute)
        self.requests: list[Recorded] = []
        self.units = 0
        self.port = port
        self._rng = random.Random(seed + 1)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{VERSION}"

    @property
    def site_id(self) -> str:
        return next(iter(self.state.sites))

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> GraphServer:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    def run_in_thread(self) -> ThreadedServer:
        """Serve from a thread with its own event loop, for synchronous callers."""
        return ThreadedServer(self)

    # -- assertions --------------------------------------------------------------------

    def flat_requests(self) -> list[Recorded]:
        """Every request, inner $batch requests in place of their envelopes."""
        flat = []
        for recorded in self.requests:
            flat.extend(recorded.children or [recorded])
        return flat

    def writes(self) -> list[Recorded]:
        return [r for r in self.flat_requests() if r.is_write]

    def reset_records(self) -> None:
        self.requests.clear()
        self.units = 0
        self.state.item_writes_landed = self.state.item_writes_unchanged = 0

    # -- serving -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in request.headers.items()}
        recorded = Recorded(request.method, raw_path, dict(request.query), headers, None)
        self.requests.append(recorded)
        if self.faults.is_down:
            recorded.fault = "down"
            return _drop(request)

        try:
            call = await self._call(request, raw_path)
            recorded.path, recorded.body = call.path, call.body
            if call.segments == ["$batch"] and call.method == "POST":
                reply = await self._serve_batch(call, recorded)
            else:
                reply = await self._serve(call, recorded)
        except GraphHttpError as error:
            reply = error.reply()
        if reply is None:
            return _drop(request)

        recorded.status = reply.status
        text = None if reply.body is None else json.dumps(reply.body, ensure_ascii=False)
        return web.Response(
            status=reply.status,
            text=text,
            headers=reply.headers,
            content_type="application/json" if text else None,
        )

    async def _call(self, request: web.Request, raw_path: str) -> Call:
        if not raw_path.startswith(VERSION + "/"):
            raise GraphHttpError(404, "BadRequest", f"Unknown version in {raw_path!r}")
        segments = [unquote(s) for s in raw_path[len(VERSION) + 1 :].split("/") if s]
        text = await request.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            raise bad_request("The request body is not valid JSON.") from None
        return Call(
            request.method,
            segments,
            dict(request.query),
            {k.lower(): v for k, v in request.headers.items()},
            body,
            self.url,
        )

    async def _serve_batch(self, call: Call, recorded: Recorded) -> Reply | None:
        fault = await self._draw(call)
        if fault is not None and not fault.after:
            recorded.fault = fault.label
            return _fault_reply(fault)

        async def serve_inner(inner: Call, batch_id: str) -> Reply | None:
            child = Recorded(
                inner.method, inner.path, inner.query, inner.headers, inner.body, batch_id=batch_id
            )
            recorded.children.append(child)
            reply = await self._serve(inner, child)
            child.status = 504 if reply is None else reply.status
            return reply

        reply = await run_batch(call, serve_inner, self._rng.shuffle)
        if fault is not None:
            recorded.fault = fault.label
            return _fault_reply(fault)
        return reply

    async def _serve(self, call: Call, recorded: Recorded) -> Reply | None:
        """Serve one request (top-level or inside a batch); None means drop the connection."""
        fault = await self._draw(call)
        if fault is not None and not fault.after:
            recorded.fault = fault.label
            return _fault_reply(fault)

        units = self.api.price(call)
        retry_after = self.budget.charge(units)
        if retry_after is not None:
            recorded.fault = "budget"
            return _fault_reply(Fault("status", 429, retry_after=retry_after))
        self.units += units
        recorded.units = units
        reply = self.api.handle(call)
        if fault is not None:
            recorded.fault = fault.label
            return _fault_reply(fault)
        return reply

    async def _draw(self, call: Call) -> Fault | None:
        fault = self.faults.draw(call.method, call.path)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        return fault


class ThreadedServer:
    """A GraphServer running on its own loop in a daemon thread (context manager)."""

    def __init__(self, server: GraphServer):
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> GraphServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=10)
        return self.server

    def __exit__(self, *exc_info) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


def _fault_reply(fault: Fault) -> Reply | None:
    if fault.kind == "drop":
        return None
    codes = {429: "TooManyRequests", 503: "serviceNotAvailable", 504: "gatewayTimeout"}
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    code = codes.get(fault.status, "generalException")
    return Reply(fault.status, error_body(code, f"Injected {fault.label}."), headers)


def _drop(request: web.Request) -> web.Response:
    # NOTE: aborting the transport and returning any response makes the client see
    # "server disconnected" (httpx.RemoteProtocolError); aiohttp discards the response.
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)
