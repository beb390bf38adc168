"""Column definitions as Graph documents them, and the field values they accept."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from .odata import bad_request, format_time

COLUMN_KEYS = {
    "@odata.type",
    "name",
    "displayName",
    "description",
    "enforceUniqueValues",
    "hidden",
    "indexed",
    "required",
    "readOnly",
    "columnGroup",
    "defaultValue",
}
# Facet -> {property: check}. Only the types the bot uses; others are refused.
FACETS = {
    "text": {
        "allowMultipleLines": bool,
        "appendChangesToExistingText": bool,
        "linesForEditing": int,
        "maxLength": int,
        "textType": ("plain", "richText"),
    },
    "number": {
        "decimalPlaces": ("automatic", "none", "one", "two", "three", "four", "five"),
        "displayAs": ("number", "percentage"),
        "maximum": (int, float),
        "minimum": (int, float),
    },
    "choice": {
        "allowTextEntry": bool,
        "choices": list,
        "displayAs": ("checkBoxes", "dropDownMenu", "radioButtons"),
    },
    "dateTime": {
        "displayAs": ("default", "friendly", "standard"),
        "format": ("dateOnly", "dateTime"),
    },
    "boolean": {},
}
FACET_DEFAULTS = {
    "text": {
        "allowMultipleLines": False,
        "appendChangesToExistingText": False,
        "linesForEditing": 0,
        "maxLength": 255,
    },
    "number": {"decimalPlaces": "automatic", "displayAs": "number"},
    "choice": {"allowTextEntry": False, "displayAs": "dropDownMenu"},
    "dateTime": {"displayAs": "default", "format": "dateTime"},
    "boolean": {},
}
MAX_TEXT = 255
MAX_NOTE = 63999
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


def builtin_columns() -> list[dict]:
    """Return the columns SharePoint puts in every genericList."""
    title = make_column({"name": "Title", "displayName": "Title", "required": True, "text": {}})
    title["columnGroup"] = "Custom Columns"
    read_only = [
        ("Modified", "dateTime"),
        ("Created", "dateTime"),
        ("Author", "personOrGroup"),
        ("Editor", "personOrGroup"),
        ("ContentType", "text"),
        ("Attachments", "boolean"),
        ("_UIVersionString", "text"),
    ]
    columns = [title]
    for name, facet in read_only:
        column = make_column({"name": name, "displayName": name, facet: {}}, check=False)
        column.update(readOnly=True, columnGroup="_Hidden")
        columns.append(column)
    return columns


def make_column(body: object, *, check: bool = True) -> dict:
    """Validate a columnDefinition from a request and return it as Graph stores it."""
    if not isinstance(body, dict):
        raise bad_request("A columnDefinition must be a JSON object.")
    facets = [key for key in body if key in FACETS or key == "personOrGroup"]
    if check:
        unknown = set(body) - COLUMN_KEYS - set(FACETS)
        if unknown:
            raise bad_request(f"Unknown columnDefinition properties: {sorted(unknown)}")
        _check_column(body, facets)

    facet = facets[0]
    column = {
        "id": str(uuid.uuid4()),
        "name": body["name"],
        "displayName": body.get("displayName") or body["name"],
        "description": body.get("description", ""),
        "columnGroup": body.get("columnGroup", "Custom Columns"),
        "enforceUniqueValues": bool(body.get("enforceUniqueValues", False)),
        "hidden": bool(body.get("hidden", False)),
        "indexed": bool(body.get("indexed", False)),
        "readOnly": False,
        "required": bool(body.get("required", False)),
        facet: {**FACET_DEFAULTS.get(facet, {}), **(body.get(facet) or {})},
    }
    return column


def _check_column(body: dict, facets: list[str]) -> None:
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise bad_request(f"Column name {name!r} must be 1-32 ASCII letters, digits or _.")
    if "displayName" in body and not isinstance(body["displayName"], str):
        raise bad_request("displayName must be a string.")
    for flag in ("enforceUniqueValues", "hidden", "indexed", "required"):
        if flag in body and not isinstance(body[flag], bool):
            raise bad_request(f"{flag} must be a boolean.")
    if body.get("enforceUniqueValues") and not body.get("indexed"):
        raise bad_request(f"Column {name!r}: enforceUniqueValues requires indexed.")
    if len(facets) != 1:
        raise bad_request(f"Column {name!r} must have exactly one type facet, got {facets}.")

    facet, settings = facets[0], body[facets[0]]
    if not isinstance(settings, dict):
        raise bad_request(f"Column {name!r}: {facet} must be an object.")
    for key, value in settings.items():
        rule = FACETS[facet].get(key)
        if rule is None:
            raise bad_request(f"Column {name!r}: unknown {facet} property {key!r}.")
        if isinstance(rule, tuple) and all(isinstance(r, str) for r in rule):
            if value not in rule:
                raise bad_request(f"Column {name!r}: {facet}.{key}={value!r} not in {rule}.")
        elif not isinstance(value, rule) or isinstance(value, bool) and rule is not bool:
            raise bad_request(f"Column {name!r}: {facet}.{key} has the wrong type.")
    if facet == "choice":
        choices = settings.get("choices")
        if not choices or not all(isinstance(c, str) and c for c in choices):
            raise bad_request(f"Column {name!r}: choice.choices must be non-empty strings.")
        if len(set(choices)) != len(choices):
            raise bad_request(f"Column {name!r}: duplicate choices.")
    if facet == "text" and not 1 <= settings.get("maxLength", MAX_TEXT) <= MAX_TEXT:
        raise bad_request(f"Column {name!r}: text.maxLength must be 1 to {MAX_TEXT}.")


def field_value(column: dict, value: object) -> object:
    """Check one field value against its column; return it as SharePoint stores it."""
    name = column["name"]
    if column["readOnly"]:
        raise bad_request(f"Field '{name}' is read-only")
    if value is None:
        return None

    if "text" in column:
        text = column["text"]
        limit = MAX_NOTE if text.get("allowMultipleLines") else text.get("maxLength", MAX_TEXT)
        if not isinstance(value, str) or len(value) > limit:
            raise bad_request(f"Field '{name}' needs text of at most {limit} characters.")
        return value
    if "number" in column:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad_request(f"Field '{name}' needs a number, got {value!r}.")
        low, high = column["number"].get("minimum"), column["number"].get("maximum")
        if low is not None and value < low or high is not None and value > high:
            raise bad_request(f"Field '{name}' value {value} is out of range.")
        return value
    if "choice" in column:
        choice = column["choice"]
        allowed = choice.get("choices", [])
        if not isinstance(value, str) or not choice["allowTextEntry"] and value not in allowed:
            raise bad_request(f"Field '{name}' value {value!r} is not one of {allowed}.")
        return value
    if "dateTime" in column:
        return _date_time(name, value)
    if "boolean" in column:
        if not isinstance(value, bool):
            raise bad_request(f"Field '{name}' needs true or false, got {value!r}.")
        return value
    raise bad_request(f"Field '{name}' cannot be written by this test server.")


def _date_time(name: str, value: object) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise bad_request(f"Field '{name}' needs an ISO 8601 date and time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment)
