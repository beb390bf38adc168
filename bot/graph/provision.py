"""Create the shared board's SharePoint lists, idempotently: `python -m bot provision`.

A list is found by its internal (URL) name, or by its Japanese title when someone made
it by hand. Missing lists are created with all their columns; existing lists get the
columns a newer version added. Nothing is changed when everything is in place.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass, field

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.models.boolean_column import BooleanColumn
from msgraph.generated.models.choice_column import ChoiceColumn
from msgraph.generated.models.column_definition import ColumnDefinition
from msgraph.generated.models.date_time_column import DateTimeColumn
from msgraph.generated.models.list_ import List_
from msgraph.generated.models.list_info import ListInfo
from msgraph.generated.models.number_column import NumberColumn
from msgraph.generated.models.text_column import TextColumn
from msgraph.generated.sites.item.lists.item.columns.columns_request_builder import (
    ColumnsRequestBuilder,
)
from msgraph.generated.sites.item.lists.lists_request_builder import ListsRequestBuilder

from bot.errors import BcpError, ConfigurationError, GraphError
from bot.graph.client import GraphRequestError, connect, send_json
from bot.graph.lists import LISTS, LISTS_BY_KEY, Column, ColumnType, ListSchema
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ProvisionResult:
    """What provisioning did. Lists by key; columns as "list_key.ColumnName"."""

    lists_created: list[str] = field(default_factory=list)
    lists_renamed: list[str] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    list_ids: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.lists_created or self.lists_renamed or self.columns_added)

    def summary(self) -> str:
        lines = []
        for key, list_id in self.list_ids.items():
            schema = LISTS_BY_KEY[key]
            added = [c.split(".", 1)[1] for c in self.columns_added if c.startswith(key + ".")]
            if key in self.lists_created:
                what = f"created with {len(schema.columns)} columns"
            elif added:
                what = "added columns " + ", ".join(added)
            else:
                what = "unchanged"
            if key in self.lists_renamed:
                what += "; title set"
            lines.append(f"  {schema.display_name} ({schema.name}, id {list_id}): {what}")
        return "\n".join(lines)


async def provision(
    client: GraphServiceClient, site_id: str, schemas: tuple[ListSchema, ...] = LISTS
) -> ProvisionResult:
    """Make the site hold every list and column of `schemas`; change nothing else.

    Args:
        client: a Graph client (see bot.graph.client.connect).
        site_id: the SharePoint site id (host,site-guid,web-guid).
        schemas: the lists to provision, by default all of bot.graph.lists.LISTS.

    Returns:
        What was created, retitled and added, and the Graph id of every list.

    Raises:
        GraphError: the site cannot be read or a change was refused.
    """
    site = client.sites.by_site_id(site_id)
    await send_json(client, site.to_get_request_information(), f"read site {site_id}")
    existing = await _all_pages(
        client,
        site.lists,
        "list the site's lists",
        _select(ListsRequestBuilder.ListsRequestBuilderGetQueryParameters),
    )

    result = ProvisionResult()
    for schema in schemas:
        found = _match(existing, schema)
        if found is None:
            result.list_ids[schema.key] = await _create_list(client, site_id, schema)
            result.lists_created.append(schema.key)
            continue

        list_id = result.list_ids[schema.key] = found["id"]
        changed = False
        if found.get("displayName") == schema.name != schema.display_name:
            changed = await _set_title(client, site_id, list_id, schema)
            if changed:
                result.lists_renamed.append(schema.key)
        columns = site.lists.by_list_id(list_id).columns
        what = f"list the columns of {schema.name}"
        query = _select(ColumnsRequestBuilder.ColumnsRequestBuilderGetQueryParameters)
        names = {column["name"] for column in await _all_pages(client, columns, what, query)}
        for column in schema.columns:
            if column.name not in names:
                await _add_column(client, site_id, list_id, schema, column)
                result.columns_added.append(f"{schema.key}.{column.name}")
                changed = True
        if not changed:
            result.unchanged.append(schema.key)
    return result


async def find_lists(
    client: GraphServiceClient, site_id: str, schemas: tuple[ListSchema, ...] = LISTS
) -> dict[str, str]:
    """Return the Graph id of every list in `schemas`, by key, without changing anything.

    Raises:
        GraphError: the lists cannot be read, or some are missing (the message says to run
            `python -m bot provision`).
    """
    lists = client.sites.by_site_id(site_id).lists
    query = _select(ListsRequestBuilder.ListsRequestBuilderGetQueryParameters)
    existing = await _all_pages(client, lists, "list the site's lists", query)
    found = {schema.key: _match(existing, schema) for schema in schemas}
    missing = [schema.name for schema in schemas if found[schema.key] is None]
    if missing:
        raise GraphError(
            f"The site {site_id} lacks the lists {', '.join(missing)}. Run "
            "`python -m bot provision` with the same BCP_GRAPH_* settings to create them."
        )
    return {key: match["id"] for key, match in found.items()}


def _select(parameters: type) -> RequestConfiguration:
    return RequestConfiguration(query_parameters=parameters(select=["id", "name", "displayName"]))


async def _all_pages(
    client: GraphServiceClient, builder, what: str, config: RequestConfiguration
) -> list[dict]:
    """Return every entry of a collection, following @odata.nextLink."""
    page = await send_json(client, builder.to_get_request_information(config), what)
    values = list(page.get("value", []))
    while page.get("@odata.nextLink"):
        request = builder.with_url(page["@odata.nextLink"]).to_get_request_information()
        page = await send_json(client, request, what)
        values.extend(page.get("value", []))
    return values


def _match(existing: list[dict], schema: ListSchema) -> dict | None:
    by_name = [found for found in existing if found.get("name") == schema.name]
    by_title = [found for found in existing if found.get("displayName") == schema.display_name]
    return (by_name or by_title or [None])[0]


async def _create_list(client: GraphServiceClient, site_id: str, schema: ListSchema) -> str:
    # NOTE: Graph refuses `name` on a new list ("Cannot define a 'name' for a list as it
    # is assigned by the server"); SharePoint derives the URL name from the first title
    # and keeps it. So the list is created under its ASCII name, then retitled.
    body = List_(
        display_name=schema.name,
        columns=[_column_definition(column) for column in schema.columns],
        list_=ListInfo(template="genericList"),
    )
    lists = client.sites.by_site_id(site_id).lists
    try:
        created = await send_json(
            client, lists.to_post_request_information(body), f"create list {schema.name}"
        )
    except GraphRequestError as error:
        # A create that timed out but succeeded, then retried by the SDK, meets itself.
        if error.status != 409:
            raise
        config = _select(ListsRequestBuilder.ListsRequestBuilderGetQueryParameters)
        existing = await _all_pages(client, lists, "list the site's lists", config)
        created = _match(existing, schema) or {}
        if not created:
            raise
    log.info(
        "Created list %s (%s) with %d columns", schema.name, created["id"], len(schema.columns)
    )
    await _set_title(client, site_id, created["id"], schema)
    return created["id"]


async def _set_title(
    client: GraphServiceClient, site_id: str, list_id: str, schema: ListSchema
) -> bool:
    """Give a list its Japanese title; return False, with a warning, if Graph refuses."""
    # NOTE: PATCH on a list is in msgraph-sdk (generated from Graph's metadata) but not
    # among the list methods Graph v1.0 documents; a refusal leaves the ASCII title.
    builder = client.sites.by_site_id(site_id).lists.by_list_id(list_id)
    request = builder.to_patch_request_information(List_(display_name=schema.display_name))
    try:
        await send_json(client, request, f"retitle list {schema.name}")
    except GraphError as error:
        log.warning(
            "Could not retitle list %s to %s; rename it in SharePoint's list settings. "
            "The bot finds it by its URL name either way. Cause: %s",
            schema.name,
            schema.display_name,
            error,
        )
        return False
    return True


async def _add_column(
    client: GraphServiceClient, site_id: str, list_id: str, schema: ListSchema, column: Column
) -> None:
    columns = client.sites.by_site_id(site_id).lists.by_list_id(list_id).columns
    request = columns.to_post_request_information(_column_definition(column))
    try:
        await send_json(client, request, f"add column {column.name} to {schema.name}")
    except GraphRequestError as error:
        # 409: a retried add whose first attempt succeeded; the column is there.
        if error.status != 409:
            raise
    log.info("Added column %s to list %s", column.name, schema.name)


def _column_definition(column: Column) -> ColumnDefinition:
    """Return the Graph columnDefinition for one of our columns."""
    definition = ColumnDefinition(
        name=column.name,
        display_name=column.display_name,
        indexed=column.indexed or None,
        # NOTE: SharePoint only enforces unique values on an indexed column.
        enforce_unique_values=column.unique or None,
    )
    kind = column.type
    if kind is ColumnType.TEXT:
        definition.text = TextColumn(max_length=255)
    elif kind is ColumnType.NOTE:
        definition.text = TextColumn(allow_multiple_lines=True, lines_for_editing=6)
    elif kind is ColumnType.NUMBER:
        definition.number = NumberColumn(decimal_places="none", minimum=0.0)
    elif kind is ColumnType.CHOICE:
        definition.choice = ChoiceColumn(
            choices=[choice.label for choice in column.choices],
            allow_text_entry=False,
            display_as="dropDownMenu",
        )
    elif kind is ColumnType.DATETIME:
        definition.date_time = DateTimeColumn(format="dateTime", display_as="default")
    elif kind is ColumnType.BOOLEAN:
        definition.boolean = BooleanColumn()
    return definition


def main(argv: list[str]) -> int:
    """Provision the lists in BCP_GRAPH_SITE_ID and print what was done; return exit status."""
    if argv:
        print("usage: python -m bot provision   (settings come from BCP_GRAPH_* variables)")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("azure").setLevel(logging.WARNING)

    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    if not settings.graph_enabled:
        print(
            "Graph is not configured, so there is nothing to provision. Set "
            "BCP_GRAPH_SITE_ID to the SharePoint site id, and BCP_GRAPH_TENANT_ID, "
            "BCP_GRAPH_CLIENT_ID and BCP_GRAPH_CLIENT_SECRET (or run with a managed "
            "identity), then run `python -m bot provision` again.",
            file=sys.stderr,
        )
        return 2

    try:
        result = asyncio.run(_provision(settings))
    except BcpError as error:
        print(f"Provisioning failed: {error}", file=sys.stderr)
        return 1
    state = "changes made" if result.changed else "nothing to change"
    print(f"Site {settings.graph_site_id} ({state}):\n{result.summary()}")
    return 0


async def _provision(settings: Settings) -> ProvisionResult:
    async with connect(settings) as graph:
        return await provision(graph.client, settings.graph_site_id)
