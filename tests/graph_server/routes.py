"""The Graph endpoints the bot uses, on GraphState. Independent of HTTP, so $batch reuses them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .columns import make_column
from .odata import GraphHttpError, Reply, bad_request, decode_token, encode_token, parse_filter
from .state import GraphList, GraphState, fields_json, item_json, list_json

HONOR_NON_INDEXED = "HonorNonIndexedQueriesWarningMayFailRandomly"
_DELTA = re.compile(r"^delta(?:\(\)|\(token='(?P<token>[^']*)'\))?$")
_EXPAND_FIELDS = re.compile(r"^fields(?:\(\$?select=(?P<select>[^)]*)\))?$")


@dataclass
class Call:
    """One request as the routes see it: path segments already percent-decoded."""

    method: str
    segments: list[str]
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None
    base_url: str = ""

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)

    def option(self, name: str) -> str | None:
        """Return an OData option, given with or without its $ ($top or top)."""
        return self.query.get(f"${name}", self.query.get(name))


class GraphApi:
    """Route calls to handlers and price them in SharePoint resource units."""

    def __init__(self, state: GraphState, page_size: int = 200):
        self.state = state
        self.page_size = page_size

    def route(self, call: Call) -> tuple[object, int]:
        """Return (handler, resource units) for a call, or raise a 404/405 GraphHttpError."""
        s, method = call.segments, call.method
        table = {
            ("sites", 2): {"GET": (self.get_site, 1)},
            ("lists", 3): {"GET": (self.get_lists, 2), "POST": (self.post_list, 2)},
            ("list", 4): {"GET": (self.get_list, 1), "PATCH": (self.patch_list, 2)},
            ("columns", 5): {"GET": (self.get_columns, 2), "POST": (self.post_column, 2)},
            ("items", 5): {"GET": (self.get_items, 2), "POST": (self.post_item, 2)},
            ("delta", 6): {"GET": (self.get_delta, 1)},
            ("item", 6): {
                "GET": (self.get_item, 1),
                "PATCH": (self.patch_item, 2),
                "DELETE": (self.delete_item, 2),
            },
            ("fields", 7): {"GET": (self.get_fields, 1), "PATCH": (self.patch_fields, 2)},
        }
        shape = _shape(s)
        if shape not in table:
            raise GraphHttpError(
                400, "BadRequest", f"Resource not found for the segment '{s[-1] if s else ''}'."
            )
        if method not in table[shape]:
            raise GraphHttpError(405, "BadRequest", f"{method} is not allowed on {call.path}")
        return table[shape][method]

    def price(self, call: Call) -> int:
        """Return what a call costs in resource units: a read 1, a write or query 2."""
        try:
            handler, units = self.route(call)
        except GraphHttpError:
            return 0
        if handler == self.get_delta and not _delta_token(call):
            return 2
        return units

    def handle(self, call: Call) -> Reply:
        try:
            handler, _ = self.route(call)
            return handler(call)
        except GraphHttpError as error:
            return error.reply()

    # -- sites and lists -------------------------------------------------------------

    def get_site(self, call: Call) -> Reply:
        site_id = call.segments[1]
        self.state.site(site_id)
        host = site_id.split(",")[0]
        return Reply(
            200,
            {
                "id": site_id,
                "name": "bcp",
                "displayName": "BCP",
                "webUrl": f"https://{host}/sites/bcp",
            },
        )

    def get_lists(self, call: Call) -> Reply:
        lists = self.state.site(call.segments[1])
        values = [self._list_json(call, gl) for gl in lists]
        return self._page(call, values)

    def post_list(self, call: Call) -> Reply:
        body = _object(call.body)
        if "name" in body:
            raise bad_request(
                "Cannot define a 'name' for a list as it is assigned by the "
                "server. Instead, provide 'displayName'"
            )
        unknown = set(body) - {"@odata.type", "displayName", "description", "columns", "list"}
        if unknown:
            raise bad_request(f"Unknown list properties: {sorted(unknown)}")
        display_name = body.get("displayName")
        if not isinstance(display_name, str) or not display_name.strip():
            raise bad_request("A list needs a displayName.")
        template = (body.get("list") or {}).get("template", "genericList")
        if template not in ("genericList",):
            raise bad_request(f"List template {template!r} is not supported here.")
        columns = body.get("columns") or []
        if not isinstance(columns, list):
            raise bad_request("columns must be an array of columnDefinition.")
        checked = [make_column(column) for column in columns]
        graph_list = self.state.create_list(call.segments[1], display_name, template, checked)
        return Reply(201, self._list_json(call, graph_list, columns=True))

    def get_list(self, call: Call) -> Reply:
        return Reply(200, self._list_json(call, self._list(call)))

    def patch_list(self, call: Call) -> Reply:
        graph_list, body = self._list(call), _object(call.body)
        unknown = set(body) - {"@odata.type", "displayName", "description"}
        if unknown:
            raise bad_request(f"Only displayName can be changed here, not {sorted(unknown)}")
        if "displayName" in body:
            if not isinstance(body["displayName"], str) or not body["displayName"].strip():
                raise bad_request("displayName must be a non-empty string.")
            graph_list.display_name = body["displayName"]
            graph_list.version += 1
        return Reply(200, self._list_json(call, graph_list))

    def get_columns(self, call: Call) -> Reply:
        return self._page(call, list(self._list(call).columns.values()))

    def post_column(self, call: Call) -> Reply:
        return Reply(201, self.state.add_column(self._list(call), call.body))

    # -- items -----------------------------------------------------------------------

    def get_items(self, call: Call) -> Reply:
        graph_list = self._list(call)
        items = graph_list.live_items()
        if call.option("filter"):
            clauses = parse_filter(call.option("filter"))
            self._check_filterable(call, graph_list, [name for name, _ in clauses])
            items = [i for i in items if all(i.fields.get(n) == v for n, v in clauses)]
        return self._page(call, [self._item_json(call, graph_list, i) for i in items])

    def post_item(self, call: Call) -> Reply:
        graph_list, body = self._list(call), _object(call.body)
        unknown = set(body) - {"@odata.type", "fields"}
        if unknown or not isinstance(body.get("fields"), dict):
            raise bad_request('A listItem is created with a body {"fields": {...}}.')
        item = self.state.create_item(graph_list, body["fields"])
        return Reply(201, item_json(graph_list, item, with_fields=True), {"ETag": item.etag})

    def get_item(self, call: Call) -> Reply:
        graph_list = self._list(call)
        item = self.state.item(graph_list, call.segments[5])
        return Reply(200, self._item_json(call, graph_list, item), {"ETag": item.etag})

    def patch_item(self, call: Call) -> Reply:
        graph_list, body = self._list(call), _object(call.body)
        item = self._matching_item(call, graph_list)
        if set(body) - {"@odata.type", "fields"} or not isinstance(body.get("fields"), dict):
            raise bad_request('Update a listItem with {"fields": {...}} or PATCH .../fields.')
        self.state.update_item(graph_list, item, body["fields"])
        return Reply(200, item_json(graph_list, item, with_fields=True), {"ETag": item.etag})

    def delete_item(self, call: Call) -> Reply:
        graph_list = self._list(call)
        self.state.delete_item(graph_list, self._matching_item(call, graph_list))
        return Reply(204)

    def get_fields(self, call: Call) -> Reply:
        item = self.state.item(self._list(call), call.segments[5])
        return Reply(200, fields_json(item), {"ETag": item.etag})

    def patch_fields(self, call: Call) -> Reply:
        graph_list = self._list(call)
        item = self._matching_item(call, graph_list)
        self.state.update_item(graph_list, item, _object(call.body))
        return Reply(200, fields_json(item), {"ETag": item.etag})

    def get_delta(self, call: Call) -> Reply:
        graph_list = self._list(call)
        token = _delta_token(call)
        generation = self.state.delta_generation
        # NOTE: Graph keeps the first request's query options ($expand, $select) inside
        # the token, so nextLink and deltaLink carry them without repeating them.
        expand = call.option("expand") or ""
        if token == "latest":
            data = {"g": generation, "s": self.state.seq, "x": expand}
            return Reply(200, {"value": [], "@odata.deltaLink": self._delta_link(call, data)})
        if token is None:
            data = {"g": generation, "s": 0, "u": self.state.seq, "o": 0, "x": expand}
        else:
            data = decode_token(token)
            if not data or data.get("g") != generation:
                fresh = self._delta_link(
                    call,
                    {"g": generation, "s": 0, "u": self.state.seq, "o": 0, "x": expand},
                )
                raise GraphHttpError(
                    410, "resyncChangesApplyDifferences", "Resync required.", {"Location": fresh}
                )
            data = {
                "g": generation,
                "s": data["s"],
                "u": data.get("u", self.state.seq),
                "o": data.get("o", 0),
                "x": data.get("x", ""),
            }

        since, upto, offset = data["s"], data["u"], data["o"]
        changed = sorted(
            (i for i in graph_list.items.values() if since < i.seq <= upto), key=lambda i: i.seq
        )
        if since == 0:
            changed = [i for i in changed if not i.deleted]
        size = int(call.option("top") or self.page_size)
        page = changed[offset : offset + size]
        values = [self._delta_json(call, graph_list, item, data["x"]) for item in page]
        if offset + size < len(changed):
            link = self._delta_link(call, dict(data, o=offset + size))
            return Reply(200, {"value": values, "@odata.nextLink": link})
        link = self._delta_link(call, {"g": generation, "s": upto, "x": data["x"]})
        return Reply(200, {"value": values, "@odata.deltaLink": link})

    # -- helpers ---------------------------------------------------------------------

    def _list(self, call: Call) -> GraphList:
        return self.state.find_list(call.segments[1], call.segments[3])

    def _list_json(self, call: Call, graph_list: GraphList, columns: bool = False) -> dict:
        body = list_json(graph_list, call.base_url)
        if columns or "columns" in (call.option("expand") or "").split(","):
            body["columns"] = list(graph_list.columns.values())
        return body

    def _item_json(
        self, call: Call, graph_list: GraphList, item, expand_option: str | None = None
    ) -> dict:
        if expand_option is None:
            expand_option = call.option("expand") or ""
        expand = _EXPAND_FIELDS.match(expand_option)
        body = item_json(graph_list, item, with_fields=bool(expand))
        if expand and expand["select"]:
            keep = set(expand["select"].split(",")) | {"@odata.etag", "id"}
            body["fields"] = {k: v for k, v in body["fields"].items() if k in keep}
        return body

    def _delta_json(self, call: Call, graph_list: GraphList, item, expand: str) -> dict:
        if item.deleted:
            return {
                "id": item.id,
                "parentReference": {"siteId": graph_list.site_id},
                "deleted": {"state": "deleted"},
            }
        return self._item_json(call, graph_list, item, expand)

    def _delta_link(self, call: Call, data: dict) -> str:
        path = "/".join(call.segments[:5])
        return f"{call.base_url}/{path}/delta?token={encode_token(data)}"

    def _matching_item(self, call: Call, graph_list: GraphList):
        item = self.state.item(graph_list, call.segments[5])
        wanted = call.headers.get("if-match")
        if wanted and wanted != "*" and wanted.removeprefix("W/") != item.etag:
            raise GraphHttpError(
                412, "resourceModified", "ETag does not match the item's current value."
            )
        return item

    def _check_filterable(self, call: Call, graph_list: GraphList, names: list[str]) -> None:
        honour = HONOR_NON_INDEXED in call.headers.get("prefer", "")
        for name in names:
            column = graph_list.column(name)
            if not column["indexed"] and not honour:
                raise bad_request(
                    f"Field '{name}' cannot be referenced in filter or orderby as it is not "
                    f"indexed. Provide the 'Prefer: {HONOR_NON_INDEXED}' header to allow "
                    "this, but be warned that such queries may fail on large lists."
                )

    def _page(self, call: Call, values: list) -> Reply:
        size = int(call.option("top") or self.page_size)
        token = decode_token(call.option("skiptoken") or "") or {}
        offset = int(token.get("o", 0))
        body: dict = {"value": values[offset : offset + size]}
        if offset + size < len(values):
            query = {k: v for k, v in call.query.items() if k not in ("$skiptoken", "skiptoken")}
            query["$skiptoken"] = encode_token({"o": offset + size})
            body["@odata.nextLink"] = f"{call.base_url}{call.path}?{urlencode(query)}"
        return Reply(200, body)


def _shape(s: list[str]) -> tuple[str, int] | None:
    if len(s) < 2 or s[0] != "sites":
        return None
    if len(s) == 2:
        return ("sites", 2)
    if s[2] != "lists":
        return None
    if len(s) in (3, 4):
        return ("lists", 3) if len(s) == 3 else ("list", 4)
    if len(s) == 5 and s[4] in ("columns", "items"):
        return (s[4], 5)
    if s[4] != "items":
        return None
    if len(s) == 6:
        return ("delta", 6) if _DELTA.match(s[5]) else ("item", 6)
    if len(s) == 7 and s[6] == "fields":
        return ("fields", 7)
    return None


def _delta_token(call: Call) -> str | None:
    return _DELTA.match(call.segments[5])["token"] or call.query.get("token")


def _object(body: object) -> dict:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body
