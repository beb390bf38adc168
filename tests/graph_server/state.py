"""What the fake Graph holds: sites, lists, columns, items, and a change sequence for delta."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from .columns import builtin_columns, field_value, make_column
from .odata import GraphHttpError, bad_request, format_time, not_found, utc_now

DEFAULT_SITE_ID = (
    "contoso.sharepoint.com,2c712de4-6a94-4a0b-9d9b-4b1a1b3c5e01,"
    "7f8e6d5c-4b3a-4c2d-8e1f-0a9b8c7d6e5f"
)
APP = {
    "application": {"id": "b0b0b0b0-0000-4000-8000-000000000001", "displayName": "BCP Board"},
    "user": {"displayName": "SharePoint App"},
}
TEMPLATES = ("genericList", "documentLibrary", "events", "tasks", "contacts", "links")
# NOTE: SharePoint derives a list's URL name from its first title and never changes it.
_URL_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def user(user_id: str, name: str) -> dict:
    """Return an identitySet for a person, as lastModifiedBy shows an HQ editor."""
    return {"user": {"id": user_id, "displayName": name, "email": f"{user_id}@example.jp"}}


@dataclass
class Item:
    id: str
    fields: dict
    created: datetime
    created_by: dict
    version: int = 1
    modified: datetime | None = None
    modified_by: dict | None = None
    seq: int = 0
    deleted: bool = False
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def etag(self) -> str:
        """Return the eTag as SharePoint forms it: quoted "{guid},{version}"."""
        return f'"{self.guid},{self.version}"'


@dataclass
class GraphList:
    id: str
    site_id: str
    name: str
    display_name: str
    template: str
    created: datetime
    columns: dict[str, dict] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    next_item: int = 1
    version: int = 1

    def column(self, name: str) -> dict:
        if name not in self.columns:
            raise bad_request(f"Field '{name}' is not recognized")
        return self.columns[name]

    def live_items(self) -> list[Item]:
        return [item for item in self.items.values() if not item.deleted]


class GraphState:
    """The sites and lists behind the fake Graph; the helpers double as test assertions."""

    def __init__(self, site_ids: tuple[str, ...] = (DEFAULT_SITE_ID,)):
        self.sites = {site_id: [] for site_id in site_ids}
        self.seq = 0
        self.delta_generation = 0
        # The app's item writes that landed, and those that changed no field (benchmarks).
        self.item_writes_landed = 0
        self.item_writes_unchanged = 0

    # -- sites and lists -------------------------------------------------------------

    def site(self, site_id: str) -> list[GraphList]:
        if site_id not in self.sites:
            raise not_found(f"Site {site_id}")
        return self.sites[site_id]

    def find_list(self, site_id: str, ref: str) -> GraphList:
        """Find a list by id, URL name or title, as Graph's /lists/{list-id} accepts."""
        for graph_list in self.site(site_id):
            if ref in (graph_list.id, graph_list.name, graph_list.display_name):
                return graph_list
        raise not_found(f"List {ref}")

    def create_list(
        self, site_id: str, display_name: str, template: str, columns: list[dict]
    ) -> GraphList:
        lists = self.site(site_id)
        if any(display_name in (gl.name, gl.display_name) for gl in lists):
            raise GraphHttpError(
                409, "nameAlreadyExists", f"A list named {display_name!r} already exists."
            )
        graph_list = GraphList(
            id=str(uuid.uuid4()),
            site_id=site_id,
            name=self._url_name(lists, display_name),
            display_name=display_name,
            template=template,
            created=utc_now(),
        )
        for column in builtin_columns() + columns:
            self._add_column(graph_list, column)
        lists.append(graph_list)
        return graph_list

    def add_column(self, graph_list: GraphList, body: object) -> dict:
        column = make_column(body)
        self._add_column(graph_list, column)
        return column

    def remove_column(self, site_id: str, list_ref: str, name: str) -> None:
        """Drop a column, as an older version of the schema would have lacked it."""
        del self.find_list(site_id, list_ref).columns[name]

    def _add_column(self, graph_list: GraphList, column: dict) -> None:
        if column["name"] in graph_list.columns:
            raise GraphHttpError(
                409, "nameAlreadyExists", f"A column named {column['name']!r} already exists."
            )
        graph_list.columns[column["name"]] = column

    @staticmethod
    def _url_name(lists: list[GraphList], display_name: str) -> str:
        base = "".join(c for c in display_name if c in _URL_CHARS) or "List"
        taken = {gl.name for gl in lists}
        name, number = base, 1
        while name in taken:
            name, number = f"{base}{number}", number + 1
        return name

    # -- items -----------------------------------------------------------------------

    def create_item(self, graph_list: GraphList, fields: object, by: dict = APP) -> Item:
        values = self._checked_fields(graph_list, fields, None)
        now = utc_now()
        item = Item(
            id=str(graph_list.next_item),
            fields=values,
            created=now,
            created_by=by,
            modified=now,
            modified_by=by,
            seq=self._next_seq(),
        )
        graph_list.next_item += 1
        graph_list.items[item.id] = item
        self.item_writes_landed += by is APP
        return item

    def update_item(
        self, graph_list: GraphList, item: Item, fields: object, by: dict = APP
    ) -> Item:
        values = self._checked_fields(graph_list, fields, item)
        if by is APP:
            self.item_writes_landed += 1
            self.item_writes_unchanged += all(
                item.fields.get(name) == value for name, value in values.items()
            )
        item.fields.update(values)
        item.version += 1
        item.modified, item.modified_by, item.seq = utc_now(), by, self._next_seq()
        return item

    def delete_item(self, graph_list: GraphList, item: Item) -> None:
        item.deleted, item.seq = True, self._next_seq()

    def item(self, graph_list: GraphList, item_id: str) -> Item:
        found = graph_list.items.get(item_id)
        if found is None or found.deleted:
            raise not_found(f"Item {item_id}")
        return found

    def _checked_fields(self, graph_list: GraphList, fields: object, item: Item | None) -> dict:
        if not isinstance(fields, dict):
            raise bad_request("fields must be a JSON object.")
        values = {}
        for name, value in fields.items():
            if name.startswith("@odata."):
                continue
            values[name] = field_value(graph_list.column(name), value)
        for name, value in values.items():
            column = graph_list.columns[name]
            if column["enforceUniqueValues"] and value is not None:
                self._check_unique(graph_list, name, value, item)
        return values

    @staticmethod
    def _check_unique(graph_list: GraphList, name: str, value: object, item: Item | None):
        for other in graph_list.live_items():
            if other is not item and other.fields.get(name) == value:
                # NOTE: SharePoint's words for a unique-column clash; status 409 is assumed.
                raise GraphHttpError(
                    409,
                    "nameAlreadyExists",
                    "The list item could not be added or updated because duplicate values "
                    f"were found in the following field(s) in the list: [{name}].",
                )

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # -- test helpers ----------------------------------------------------------------

    def rows(self, site_id: str, list_ref: str) -> list[dict]:
        """Return the live items' fields of a list, in item id order."""
        return [
            dict(item.fields, id=item.id) for item in self.find_list(site_id, list_ref).live_items()
        ]

    def edit_as(
        self, editor: dict, site_id: str, list_ref: str, item_ref: str, changes: dict
    ) -> Item:
        """Change fields as a person would in SharePoint; item_ref is an id or a Key."""
        graph_list = self.find_list(site_id, list_ref)
        item = graph_list.items.get(item_ref) or next(
            (i for i in graph_list.live_items() if i.fields.get("Key") == item_ref), None
        )
        if item is None or item.deleted:
            raise KeyError(f"no item {item_ref!r} in {list_ref!r}")
        return self.update_item(graph_list, item, changes, by=editor)

    def expire_delta_tokens(self) -> None:
        """Make every delta token given so far answer 410, as after a long outage."""
        self.delta_generation += 1


def list_json(graph_list: GraphList, base_url: str) -> dict:
    created = format_time(graph_list.created)
    return {
        "@odata.etag": f'"{graph_list.id},{graph_list.version}"',
        "id": graph_list.id,
        "name": graph_list.name,
        "displayName": graph_list.display_name,
        "description": "",
        "createdDateTime": created,
        "lastModifiedDateTime": created,
        "eTag": f'"{graph_list.id},{graph_list.version}"',
        "webUrl": f"{base_url}/Lists/{graph_list.name}",
        "createdBy": APP,
        "parentReference": {"siteId": graph_list.site_id},
        "list": {"contentTypesEnabled": False, "hidden": False, "template": graph_list.template},
    }


def item_json(graph_list: GraphList, item: Item, *, with_fields: bool) -> dict:
    body = {
        "@odata.etag": item.etag,
        "id": item.id,
        "eTag": item.etag,
        "createdDateTime": format_time(item.created),
        "lastModifiedDateTime": format_time(item.modified or item.created),
        "webUrl": f"https://contoso.sharepoint.com/Lists/{graph_list.name}/{item.id}_.000",
        "createdBy": item.created_by,
        "lastModifiedBy": item.modified_by or item.created_by,
        "parentReference": {"id": graph_list.id, "siteId": graph_list.site_id},
        "contentType": {"id": "0x0100", "name": "Item"},
    }
    if with_fields:
        body["fields"] = fields_json(item)
    return body


def fields_json(item: Item) -> dict:
    values = {key: value for key, value in item.fields.items() if value is not None}
    return {
        "@odata.etag": item.etag,
        "id": item.id,
        **values,
        "Created": format_time(item.created),
        "Modified": format_time(item.modified or item.created),
        "_UIVersionString": f"{item.version}.0",
    }
