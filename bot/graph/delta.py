"""The delta poller: HQ's edits of the Sites board list flow back into the journal.

Every `interval` seconds (or when woken) it asks Graph for the board's changes since the
last delta link, page by page, and keeps the new link in the journal once every page is
handled. Without a link (first start, or Graph answered 410 because the link expired)
it reads the whole list again; that is safe, because an edit is recognised by what
changed, not by having been seen once.

An item's change is HQ's edit when its editable columns differ from what the mirror
last wrote there (bot.store.GraphWrite). The mirror's own writes are recognised by their
eTag, or by an application (not a person) as the last modifier; their values become the
new reference. An edit is handed to `apply` (bot.corrections) with who and when, and its
eTag is remembered so that the mirror's next update of the item (If-Match) goes through.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.sites.item.lists.item.items.delta.delta_request_builder import (
    DeltaRequestBuilder,
)

from bot.errors import BcpError
from bot.graph.client import GraphRequestError, send_json
from bot.graph.lists import SITES_BOARD
from bot.graph.pacing import Clock, Sleep, backoff, pause
from bot.graph.provision import find_lists
from bot.graph.rows import edited_values
from bot.model import Reporter
from bot.store import GraphWrite, Journal

log = logging.getLogger(__name__)

CURSOR = "delta:" + SITES_BOARD.key


@dataclass(frozen=True)
class ListEdit:
    """A person's edit of one Sites board item, in the journal's words.

    `values` holds only the fields the person changed, as report card values.
    """

    site_id: str
    values: dict[str, str]
    editor: Reporter
    edited_at: datetime
    item_id: str
    etag: str


# Returns what the journal recorded as the site's new state, or None (nothing applied).
Apply = Callable[[ListEdit], Awaitable[object | None]]


@dataclass
class DeltaPoller:
    """Poll the Sites board of `site_id` for HQ's edits and hand each one to `apply`.

    Args:
        journal: for the delta link and what the mirror wrote.
        client: a Graph client (bot.graph.client.connect).
        apply: takes an edit into the journal (bot.corrections.Corrections.apply).
        interval: seconds between polls (BCP_GRAPH_POLL_INTERVAL).
        clock, sleep, rng: injectable for tests.
    """

    journal: Journal
    client: GraphServiceClient
    site_id: str
    apply: Apply
    interval: float = 30.0
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    list_id: str | None = None

    def __post_init__(self) -> None:
        self.polls = 0
        self.edits = 0
        self.resyncs = 0
        self.failures = 0
        self.last_error = ""
        self.last_poll_at: float | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    # -- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until stop(): every `interval` seconds, at once when woken."""
        while not self._stop.is_set():
            self._wake.clear()
            wait = self.interval
            try:
                await self.poll_once()
            except BcpError as error:
                self.failures += 1
                self.last_error = str(error)
                wait = max(wait, backoff(self.failures, None, self.rng))
                log.warning("Delta poll of the Sites board failed; next in %.0f s: %s", wait, error)
            except Exception as error:  # the poller must outlive any single failure
                self.failures += 1
                self.last_error = repr(error)
                wait = max(wait, backoff(self.failures, None, self.rng))
                log.exception("Delta poll of the Sites board failed unexpectedly")
            await pause(self._wake, wait, self.sleep)

    def wake(self) -> None:
        """Poll now (the mirror met an item HQ edited)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def status(self) -> dict:
        """Return what /healthz shows of the poller."""
        since = None if self.last_poll_at is None else round(self.clock() - self.last_poll_at, 1)
        return {
            "polls": self.polls,
            "edits_applied": self.edits,
            "resyncs": self.resyncs,
            "seconds_since_poll": since,
            "failures_in_a_row": self.failures,
            "last_error": self.last_error,
        }

    # -- one poll --------------------------------------------------------------------

    async def poll_once(self) -> int:
        """Read the changes since the last poll and apply HQ's edits; return how many."""
        async with self._lock:
            if self.list_id is None:
                lists = await find_lists(self.client, self.site_id, (SITES_BOARD,))
                self.list_id = lists[SITES_BOARD.key]
            started = self.clock()
            link = await self.journal.graph_cursor(CURSOR)
            try:
                seen, applied = await self._read(link)
            except GraphRequestError as error:
                if error.status != 410:
                    raise
                # NOTE: Graph answers 410 when a delta link is too old to continue from;
                # the documented remedy is to read everything again.
                self.resyncs += 1
                log.info("Delta link of the Sites board expired (410); reading it all again")
                await self.journal.set_graph_cursor(CURSOR, None)
                seen, applied = await self._read(None)

            self.polls, self.failures, self.last_error = self.polls + 1, 0, ""
            self.last_poll_at = self.clock()
            self.edits += applied
            # Quiet polls are the rule (one every interval); only those with changes are news.
            log.log(
                logging.INFO if seen else logging.DEBUG,
                "Delta poll of the Sites board: %d changes, %d HQ edits applied, %.0f ms",
                seen, applied, (self.clock() - started) * 1000,
            )
            return applied

    async def _read(self, link: str | None) -> tuple[int, int]:
        """Follow nextLinks from `link` (or a full read) to a deltaLink; save it at the end."""
        items = self.client.sites.by_site_id(self.site_id).lists.by_list_id(self.list_id).items
        if link is None:
            query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(expand=["fields"])
            request = items.delta.to_get_request_information(RequestConfiguration(query_parameters=query))
        else:
            request = items.delta.with_url(link).to_get_request_information()

        seen = applied = 0
        while True:
            page = await send_json(self.client, request, "read the Sites board's changes")
            for item in page.get("value", []):
                seen += 1
                applied += await self._consider(item)
            if page.get("@odata.nextLink"):
                request = items.delta.with_url(page["@odata.nextLink"]).to_get_request_information()
                continue
            if page.get("@odata.deltaLink"):
                await self.journal.set_graph_cursor(CURSOR, page["@odata.deltaLink"])
            return seen, applied

    async def _consider(self, item: dict) -> int:
        """Hand one changed item on if a person edited it; return 1 if the journal took it."""
        fields = item.get("fields") or {}
        key = fields.get("Key")
        if "deleted" in item or not key:
            # A deleted item is made again by the site's next report; a row added by
            # hand has no journal key and is not the bot's to read.
            return 0
        written = await self.journal.graph_write(SITES_BOARD.key, key)
        etag = item.get("eTag") or fields.get("@odata.etag") or ""
        if written is None or etag == written.etag:
            return 0

        current = _editable(fields)
        modifier = item.get("lastModifiedBy") or {}
        person = (modifier.get("user") or {}).get("id")
        if not person:
            # An app's write, ours with its answer lost: its values are the reference now.
            await self.journal.save_graph_write(SITES_BOARD.key, key, GraphWrite({**written.fields, **current}, etag))
            return 0

        changed = {
            name: value
            for name, value in current.items()
            if _normal(name, value) != _normal(name, written.fields.get(name))
        }
        values = edited_values(SITES_BOARD, changed)
        recorded = None
        if values:
            user = modifier["user"]
            recorded = await self.apply(
                ListEdit(
                    site_id=fields.get("SiteId") or key,
                    values=values,
                    editor=Reporter(person, person, user.get("displayName", "")),
                    edited_at=_moment(item.get("lastModifiedDateTime") or fields.get("Modified")),
                    item_id=str(item["id"]),
                    etag=etag,
                )
            )
        # The item as HQ left it is the reference from now on; the mirror writes the
        # journal's merged state over it with this eTag.
        await self.journal.save_graph_write(SITES_BOARD.key, key, GraphWrite({**written.fields, **current}, etag))
        return 0 if recorded is None else 1


def _editable(fields: dict) -> dict:
    """Return the editable columns of an item, a missing one as None (SharePoint omits it)."""
    return {c.name: fields.get(c.name) for c in SITES_BOARD.columns if c.editable}


def _normal(name: str, value: object) -> object:
    value = SITES_BOARD.column(name).from_graph(value)
    return None if value == "" else value


def _moment(value: object) -> datetime:
    # NOTE: SharePoint gives whole seconds in UTC with a trailing Z.
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
