"""The delta poller: HQ's edits of the shared lists flow back into the journal.

Every `interval` seconds (or when woken) it asks Graph for each watched list's changes
since its last delta link, page by page, and keeps the new link in the journal once
every page is handled. Without a link (first start, or Graph answered 410 because the
link expired) it reads the whole list again; that is safe, because an edit is
recognised by what changed, not by having been seen once.

An item's change is a person's edit when its editable columns (lists.py) differ from
what the mirror last wrote there (bot.store.GraphWrite). The mirror's own writes are
recognised by their eTag, or by an application (not a person) as the last modifier;
their values become the new reference. An edit goes to the list's applier with who and
when: the Sites board's to bot/corrections.py, the Supply requests' to
bot/graph/request_edits.py. Its eTag is remembered, so that the mirror's next update of
the item (If-Match) goes through.
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
from bot.graph.lists import LISTS_BY_KEY, ListSchema
from bot.graph.pacing import Clock, Sleep, backoff, pause
from bot.graph.provision import find_lists
from bot.model import Reporter
from bot.store import GraphWrite, Journal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListEdit:
    """A person's edit of one list item.

    Attributes:
        changed: the editable columns they changed, as SharePoint holds them.
        fields: the whole item as SharePoint holds it now.
    """

    list_key: str
    item_key: str
    changed: dict[str, object]
    fields: dict
    editor: Reporter
    edited_at: datetime
    item_id: str
    etag: str


# Returns what the journal recorded, or None when the edit changed nothing there.
Apply = Callable[[ListEdit], Awaitable[object | None]]


def cursor_name(list_key: str) -> str:
    """Return the journal's name for a list's delta link."""
    return f"delta:{list_key}"


@dataclass
class DeltaPoller:
    """Poll the watched lists of `site_id` for edits and hand each one to its applier.

    Args:
        journal: for the delta links and what the mirror wrote.
        client: a Graph client (bot.graph.client.connect).
        appliers: list key (lists.py) -> what takes an edit of that list into the journal.
        interval: seconds between polls (BCP_GRAPH_POLL_INTERVAL).
        clock, sleep, rng: injectable for tests.
    """

    journal: Journal
    client: GraphServiceClient
    site_id: str
    appliers: dict[str, Apply]
    interval: float = 30.0
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    list_ids: dict[str, str] = field(default_factory=dict)

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
                log.warning("Delta poll of the lists failed; next in %.0f s: %s", wait, error)
            except Exception as error:  # the poller must outlive any single failure
                self.failures += 1
                self.last_error = repr(error)
                wait = max(wait, backoff(self.failures, None, self.rng))
                log.exception("Delta poll of the lists failed unexpectedly")
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
        """Read every watched list's changes since the last poll; return the edits applied."""
        async with self._lock:
            if not self.list_ids:
                schemas = tuple(LISTS_BY_KEY[key] for key in self.appliers)
                self.list_ids = await find_lists(self.client, self.site_id, schemas)
            applied = 0
            for key in self.appliers:
                applied += await self._poll_list(LISTS_BY_KEY[key])
            self.polls, self.failures, self.last_error = self.polls + 1, 0, ""
            self.last_poll_at = self.clock()
            self.edits += applied
            return applied

    async def _poll_list(self, schema: ListSchema) -> int:
        started = self.clock()
        cursor = cursor_name(schema.key)
        link = await self.journal.graph_cursor(cursor)
        try:
            seen, applied = await self._read(schema, link)
        except GraphRequestError as error:
            if error.status != 410:
                raise
            # NOTE: Graph answers 410 when a delta link is too old to continue from; the
            # documented remedy is to read everything again.
            self.resyncs += 1
            log.info("Delta link of list %s expired (410); reading it all again", schema.name)
            await self.journal.set_graph_cursor(cursor, None)
            seen, applied = await self._read(schema, None)

        # Quiet polls are the rule (one every interval); only those with changes are news.
        log.log(
            logging.INFO if seen else logging.DEBUG,
            "Delta poll of list %s: %d changes, %d edits applied, %.0f ms",
            schema.name, seen, applied, (self.clock() - started) * 1000,
        )
        return applied

    async def _read(self, schema: ListSchema, link: str | None) -> tuple[int, int]:
        """Follow nextLinks from `link` (or a full read) to a deltaLink; save it at the end."""
        items = self.client.sites.by_site_id(self.site_id).lists.by_list_id(
            self.list_ids[schema.key]
        ).items
        if link is None:
            query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(expand=["fields"])
            config = RequestConfiguration(query_parameters=query)
            request = items.delta.to_get_request_information(config)
        else:
            request = items.delta.with_url(link).to_get_request_information()

        seen = applied = 0
        while True:
            page = await send_json(self.client, request, f"read the changes of {schema.name}")
            for item in page.get("value", []):
                seen += 1
                applied += await self._consider(schema, item)
            if page.get("@odata.nextLink"):
                request = items.delta.with_url(page["@odata.nextLink"]).to_get_request_information()
                continue
            if page.get("@odata.deltaLink"):
                await self.journal.set_graph_cursor(cursor_name(schema.key), page["@odata.deltaLink"])
            return seen, applied

    async def _consider(self, schema: ListSchema, item: dict) -> int:
        """Hand one changed item on if a person edited it; return 1 if the journal took it."""
        fields = item.get("fields") or {}
        key = fields.get("Key")
        if "deleted" in item or not key:
            # A deleted item is made again by its next change; a row added by hand has no
            # journal key and is not the bot's to read.
            return 0
        written = await self.journal.graph_write(schema.key, key)
        etag = item.get("eTag") or fields.get("@odata.etag") or ""
        if written is None or etag == written.etag:
            return 0

        current = {c.name: fields.get(c.name) for c in schema.columns if c.editable}
        reference = GraphWrite({**written.fields, **current}, etag)
        modifier = item.get("lastModifiedBy") or {}
        person = (modifier.get("user") or {}).get("id")
        if not person:
            # An app's write, ours with its answer lost: its values are the reference now.
            await self.journal.save_graph_write(schema.key, key, reference)
            return 0

        changed = {
            name: value
            for name, value in current.items()
            if _normal(schema, name, value) != _normal(schema, name, written.fields.get(name))
        }
        recorded = None
        if changed:
            recorded = await self.appliers[schema.key](
                ListEdit(
                    list_key=schema.key,
                    item_key=key,
                    changed=changed,
                    fields=fields,
                    editor=Reporter(person, person, modifier["user"].get("displayName", "")),
                    edited_at=_moment(item.get("lastModifiedDateTime") or fields.get("Modified")),
                    item_id=str(item["id"]),
                    etag=etag,
                )
            )
        # The item as the person left it is the reference from now on; the mirror writes
        # the journal's state over it with this eTag.
        await self.journal.save_graph_write(schema.key, key, reference)
        return 0 if recorded is None else 1


def _normal(schema: ListSchema, name: str, value: object) -> object:
    value = schema.column(name).from_graph(value)
    return None if value == "" else value


def _moment(value: object) -> datetime:
    # NOTE: SharePoint gives whole seconds in UTC with a trailing Z, which
    # datetime.fromisoformat reads from Python 3.11 on.
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
