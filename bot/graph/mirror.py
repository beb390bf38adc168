"""The outbox worker: drains the journal's outbox into SharePoint lists with JSON batches.

Each pass takes the newest pending state of each list item (the journal coalesces), sends
up to 20 requests a $batch, paced to the tenant's resource-unit budget, and settles each
row by its own answer inside the batch:

- written: the row is done; a new item's id is stored so the next state is an update.
- throttled or unavailable (429, 503, 504, also inside a 200 batch): tried again later,
  after Retry-After or an exponential backoff with jitter.
- refused for good (400): parked at once. Any other failure counts an attempt; a row is
  parked after `max_attempts`. Parked rows stay in the journal until unparked.

A batch that fails as a whole (network down, the envelope throttled) costs the rows
nothing: an outage delays the mirror, it never parks it.

Idempotency: every item carries its journal key in the unique, indexed `Key` column. A
create whose outcome is unknown (a lost answer, a crash mid-drain) is looked up by Key
before it is sent again; a create that still meets the key answers 409 and is looked up.

Two-way lists (those with columns HQ may edit, see lists.py): the mirror remembers what it
wrote and the eTag it got back, so the delta poller can tell HQ's edits from its own, and
updates such an item only `If-Match` that eTag. A 412 means HQ edited the item since: the
row waits for the poller to take the edit into the journal, which writes the merged state.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphServiceClient

from bot.errors import BcpError
from bot.graph.client import ERROR_MAPPING
from bot.graph.pacing import Clock, Sleep, UnitPacer, backoff, pause
from bot.graph.provision import find_lists
from bot.graph.rows import list_row
from bot.store import GraphWrite, Journal, OutboxEntry

log = logging.getLogger(__name__)

MAX_BATCH = 20
PASS_SIZE = 200
RETRYABLE = frozenset({429, 503, 504})
CONFLICT_PAUSE = 5.0
HONOR_NON_INDEXED = "HonorNonIndexedQueriesWarningMayFailRandomly"


@dataclass
class _Plan:
    """What to do for one outbox entry in this pass."""

    entry: OutboxEntry
    list_id: str
    fields: dict
    item_id: str | None
    two_way: bool = False
    etag: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.entry.list_name, self.entry.item_key)


@dataclass
class DrainResult:
    """One pass: rows written, retried, parked; units spent; seconds to wait before the next."""

    written: int = 0
    retried: int = 0
    parked: int = 0
    units: int = 0
    wait: float = 0.0
    idle: bool = False


class _BatchFailed(Exception):
    """The $batch as a whole failed; nothing in it is known to have happened."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.retry_after = retry_after
        self.status = status


@dataclass
class Mirror:
    """Drain the outbox of `journal` into the lists of `site_id`.

    Args:
        journal: the journal; only its outbox and graph item id methods are used.
        client: a Graph client (bot.graph.client.connect). The mirror turns off the SDK's
            own retries for its requests and retries by its own rules.
        site_id: the SharePoint site that holds the provisioned lists.
        units_per_minute: the tenant's budget (BCP_GRAPH_UNITS_PER_MINUTE).
        max_attempts: failures after which a row is parked.
        poll_interval: seconds between looks at an idle outbox (a safety net for rows
            queued without a wake, e.g. by `graph-retry` from another process).
        gather: seconds to let a burst gather after a wake before draining it.
        clock, sleep, rng: injectable for tests; `sleep` also times the pauses of run().
        now: the wall-clock time (UTC) that outbox rows are stamped with, for the lag.
        on_conflict: called when HQ edited an item the mirror was about to update (412);
            the app wakes the delta poller with it.
    """

    journal: Journal
    client: GraphServiceClient
    site_id: str
    units_per_minute: int = 1200
    max_attempts: int = 8
    poll_interval: float = 2.0
    gather: float = 1.0
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    list_ids: dict[str, str] = field(default_factory=dict)
    on_conflict: Callable[[], None] | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.pacer = UnitPacer(self.units_per_minute, self.clock, self.sleep)
        self.per_batch = max(1, min(MAX_BATCH, int(self.pacer.capacity) // 2))
        self.failures = 0
        self.batches = 0
        self.last_error = ""
        self._uncertain: set[tuple[str, str]] = set()
        self._gone: set[tuple[str, str]] = set()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    # -- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Drain until stop(): soon after a wake, else every poll_interval seconds.

        Woken from idle, it waits `gather` seconds first, so that a burst of reports for
        one site is one write of its newest state rather than a write per report.
        """
        while not self._stop.is_set():
            try:
                result = await self.drain_once()
            except BcpError as error:
                self.failures += 1
                self.last_error = str(error)
                log.warning("Graph mirror paused: %s", error)
                result = DrainResult(wait=backoff(self.failures, None, self.rng))
            except Exception as error:  # the worker must outlive any single failure
                self.failures += 1
                self.last_error = repr(error)
                log.exception("Graph mirror pass failed unexpectedly")
                result = DrainResult(wait=backoff(self.failures, None, self.rng))
            if result.wait:
                await pause(self._stop, result.wait, self.sleep)
            elif result.idle:
                self._wake.clear()
                await pause(self._wake, self.poll_interval, self.sleep)
                if self._wake.is_set() and self.gather:
                    await pause(self._stop, self.gather, self.sleep)

    def wake(self) -> None:
        """Start a pass now (call after a journal write that added outbox rows)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def on_report(self, record) -> None:
        """Listener of reports and new requests: outbox rows were added; drain them now."""
        self.wake()

    async def on_move(self, record, actor) -> None:
        """Listener of supply request moves: the request's row was queued; drain it now."""
        self.wake()

    def status(self) -> dict:
        """Return what /healthz shows of the mirror besides the outbox counts."""
        return {
            "batches": self.batches,
            "units": self.pacer.spent,
            "failures_in_a_row": self.failures,
            "last_error": self.last_error,
        }

    # -- one pass --------------------------------------------------------------------

    async def drain_once(self, limit: int = PASS_SIZE) -> DrainResult:
        """Send the newest state of up to `limit` pending items; return what happened.

        Passes never overlap: a caller (a test, the retry command) waits for the loop's.
        """
        async with self._lock:
            return await self._drain(limit)

    async def _drain(self, limit: int) -> DrainResult:
        entries = await self.journal.outbox_pending(limit)
        if not entries:
            return DrainResult(idle=True)
        if not self.list_ids:
            self.list_ids = await find_lists(self.client, self.site_id)

        result = DrainResult()
        plans = [plan for entry in entries if (plan := await self._plan(entry, result))]
        try:
            lookups = [p for p in plans if p.item_id is None and self._unsure(p)]
            for chunk in _chunks(lookups, self.per_batch):
                await self._look_up(chunk, plans, result)
            for chunk in _chunks(plans, self.per_batch):
                await self._write(chunk, result)
        except _BatchFailed as failure:
            self.failures += 1
            self.last_error = str(failure)
            result.wait = backoff(self.failures, failure.retry_after, self.rng)
            if failure.status == 429:
                self.pacer.hold(result.wait)
            log.warning("Graph batch failed (%s); next try in %.1f s", failure, result.wait)
        return result

    async def _plan(self, entry: OutboxEntry, result: DrainResult) -> _Plan | None:
        try:
            schema, fields = list_row(entry.list_name, entry.item_key, entry.fields)
        except (KeyError, ValueError) as error:
            await self._park(entry, f"cannot map to a list row: {error!r}", result)
            return None
        key = (entry.list_name, entry.item_key)
        item_id = None
        if key not in self._gone:
            item_id = await self.journal.graph_item_id(entry.list_name, entry.item_key)
        plan = _Plan(entry, self.list_ids[schema.key], fields, item_id, schema.two_way)
        if plan.two_way and item_id is not None:
            written = await self.journal.graph_write(entry.list_name, entry.item_key)
            plan.etag = written.etag if written else None
        return plan

    def _unsure(self, plan: _Plan) -> bool:
        """Return True when an earlier create of this item may have succeeded."""
        return plan.key in self._uncertain or plan.key in self._gone or plan.entry.attempts > 0

    async def _look_up(self, chunk: list[_Plan], plans: list[_Plan], result: DrainResult):
        requests = [self._lookup_request(plan) for plan in chunk]
        answers = await self._send(requests, 2 * len(requests), result, _lag(chunk, self.now()))
        for plan, answer in zip(chunk, answers, strict=True):
            if answer["status"] != 200:
                # Not known whether it exists: do not create it blindly in this pass.
                plans.remove(plan)
                continue
            found = answer.get("body", {}).get("value", [])
            self._uncertain.discard(plan.key)
            self._gone.discard(plan.key)
            if found:
                plan.item_id = found[0]["id"]
                await self.journal.set_graph_item_id(*plan.key, plan.item_id)

    async def _write(self, chunk: list[_Plan], result: DrainResult) -> None:
        requests = [self._write_request(plan) for plan in chunk]
        try:
            answers = await self._send(
                requests, 2 * len(requests), result, _lag(chunk, self.now())
            )
        except _BatchFailed as failure:
            if failure.status != 429:
                # The creates may have happened with only their answers lost.
                self._uncertain.update(p.key for p in chunk if p.item_id is None)
            raise

        done, hold = [], 0.0
        for plan, answer in zip(chunk, answers, strict=True):
            status = answer["status"]
            if status in (200, 201):
                body = answer.get("body") or {}
                if plan.item_id is None:
                    plan.item_id = body["id"]
                    await self.journal.set_graph_item_id(*plan.key, plan.item_id)
                if plan.two_way:
                    write = GraphWrite(plan.fields, _etag(body, answer.get("headers", {})))
                    await self.journal.save_graph_write(*plan.key, write)
                self._uncertain.discard(plan.key)
                done.append(plan.entry)
                continue
            retry_after = _retry_after(answer.get("headers", {}))
            if status == 429:
                hold = max(hold, retry_after or backoff(1, None, self.rng))
                result.retried += 1
                continue
            if status == 412:
                # HQ edited the item since our last write: the poller takes the edit into
                # the journal first, which queues the merged state with the new eTag.
                hold = max(hold, CONFLICT_PAUSE)
                if self.on_conflict is not None:
                    self.on_conflict()
            if plan.item_id is None and status in (409, 503, 504):
                self._uncertain.add(plan.key)
            if plan.item_id is not None and status == 404:
                self._gone.add(plan.key)
            if status in RETRYABLE:
                hold = max(hold, retry_after or 0.0)
            await self._failed(plan.entry, status, answer, result)

        if done:
            await self.journal.outbox_complete(done)
            result.written += len(done)
        if hold:
            self.pacer.hold(hold)

    async def _failed(self, entry: OutboxEntry, status: int, answer: dict, result) -> None:
        error = answer.get("body", {}).get("error", {})
        reason = f"HTTP {status} {error.get('code', '')}: {error.get('message', '')}".strip()
        if status == 400:
            await self._park(entry, reason, result)
            return
        park = entry.attempts + 1 >= self.max_attempts
        if park:
            await self._park(entry, reason, result)
        else:
            await self.journal.outbox_retry(entry, reason, park=False)
            result.retried += 1
            log.info("Graph refused %s/%s (%s); will retry", *_ids(entry), reason)

    async def _park(self, entry: OutboxEntry, reason: str, result: DrainResult) -> None:
        await self.journal.outbox_retry(entry, reason, park=True)
        result.parked += 1
        log.error(
            "Parked outbox row %s for %s/%s after %d attempts: %s. It stays in the journal; "
            "unpark it once the cause is fixed.",
            entry.id, *_ids(entry), entry.attempts + 1, reason,
        )

    # -- requests --------------------------------------------------------------------

    def _items_url(self, plan: _Plan) -> str:
        return f"/sites/{quote(self.site_id, safe=',')}/lists/{plan.list_id}/items"

    def _lookup_request(self, plan: _Plan) -> dict:
        key = plan.entry.item_key.replace("'", "''")
        query = urlencode({"$filter": f"fields/Key eq '{key}'", "$select": "id"}, quote_via=quote)
        return {
            "method": "GET",
            "url": f"{self._items_url(plan)}?{query}",
            "headers": {"Prefer": HONOR_NON_INDEXED},
        }

    def _write_request(self, plan: _Plan) -> dict:
        headers = {"Content-Type": "application/json"}
        if plan.item_id is None:
            url, method, body = self._items_url(plan), "POST", {"fields": plan.fields}
        else:
            url, method, body = f"{self._items_url(plan)}/{plan.item_id}/fields", "PATCH", (
                plan.fields
            )
            if plan.etag:
                headers["If-Match"] = plan.etag
        return {"method": method, "url": url, "headers": headers, "body": body}

    async def _send(
        self, requests: list[dict], units: int, result: DrainResult, lag: float
    ) -> list[dict]:
        """POST one $batch; return the inner answers in the order of `requests`.

        `lag` is how long the oldest row in it has waited, for the log line.
        """
        await self.pacer.spend(units)
        body = {"requests": [dict(r, id=str(n)) for n, r in enumerate(requests, 1)]}
        info = RequestInformation(Method.POST, "{+baseurl}/$batch")
        info.headers.try_add("Accept", "application/json")
        info.set_stream_content(json.dumps(body, ensure_ascii=False).encode(), "application/json")
        info.add_request_options([RetryHandlerOption(should_retry=False)])

        started = self.clock()
        try:
            adapter = self.client.request_adapter
            content = await adapter.send_primitive_async(info, "bytes", ERROR_MAPPING)
        except APIError as error:
            headers = error.response_headers or {}
            raise _BatchFailed(
                f"$batch answered HTTP {error.response_status_code}",
                _retry_after(headers), error.response_status_code,
            ) from error
        except httpx.TransportError as error:
            raise _BatchFailed(f"Graph unreachable: {error!r}") from error

        self.failures, self.batches = 0, self.batches + 1
        result.units += units
        by_id = {a["id"]: a for a in json.loads(content).get("responses", [])}
        answers = [by_id.get(str(n), {"status": 502}) for n in range(1, len(requests) + 1)]
        statuses = [a["status"] for a in answers]
        log.info(
            "Graph batch: %d requests, %d ok, %d throttled, %d failed, %d units, %.0f ms, "
            "oldest row waited %.0f s",
            len(requests), sum(s < 300 for s in statuses), statuses.count(429),
            sum(s >= 300 and s != 429 for s in statuses), units, (self.clock() - started) * 1000,
            lag,
        )
        return answers


def _lag(chunk: list[_Plan], now: datetime) -> float:
    oldest = min(plan.entry.enqueued_at for plan in chunk)
    return max(0.0, (now - oldest).total_seconds())


def _chunks(plans: list[_Plan], size: int) -> list[list[_Plan]]:
    return [plans[i : i + size] for i in range(0, len(plans), size)]


def _retry_after(headers: dict) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _etag(body: dict, headers: dict) -> str:
    """Return the item's eTag from a create (listItem) or an update (fieldValueSet) answer."""
    fields = body.get("fields") or {}
    for value in (body.get("eTag"), body.get("@odata.etag"), fields.get("@odata.etag")):
        if value:
            return value
    return next((v for k, v in headers.items() if k.lower() == "etag"), "")


def _ids(entry: OutboxEntry) -> tuple[str, str]:
    return entry.list_name, entry.item_key
