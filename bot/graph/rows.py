"""Outbox entries as SharePoint list rows, and HQ's edits of them back as journal fields.

The journal writes each outbox row in its own vocabulary (report_fields in the store);
this module is the one place that knows which column each value goes to, both ways.
Lists without a translator take their fields as column names already.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from bot.board import congestion_of
from bot.graph.lists import LISTS_BY_KEY, ListSchema, lifeline_column, supply_column
from bot.model import LIFELINES, SUPPLIES, ShelterStatus

COUNTS = {
    "status": "Status",
    "evacuees": "Evacuees",
    "households": "Households",
    "care_needed": "CareNeeded",
    "capacity": "Capacity",
    "needs": "UrgentNeeds",
    "site_id": "SiteId",
}


def list_row(list_name: str, item_key: str, fields: Mapping) -> tuple[ListSchema, dict]:
    """Return the list an outbox entry goes to and its SharePoint fields (Key included).

    Raises:
        KeyError: the list is unknown. ValueError: a value fits no column (a choice code
            the schema lacks); a retry will not fix either.
    """
    schema = LISTS_BY_KEY[list_name]
    translate = TRANSLATORS.get(list_name, dict)
    values = {**translate(fields), "Key": item_key}
    return schema, schema.to_graph_fields(values)


def edited_values(schema: ListSchema, columns: Mapping[str, object]) -> dict[str, str]:
    """Return the editable columns among `columns` (SharePoint fields) as report fields.

    The values come back as a report card would send them (codes and digits as strings,
    empty for a cleared cell), ready to merge into ShelterReport.to_fields().
    """
    names = {column: name for name, column in COUNTS.items()}
    names |= {lifeline_column(lifeline): f"lifeline_{lifeline}" for lifeline in LIFELINES}
    names |= {supply_column(supply): f"supply_{supply}" for supply in SUPPLIES}
    values = {}
    for column in schema.columns:
        if column.editable and column.name in columns and column.name in names:
            value = column.from_graph(columns[column.name])
            values[names[column.name]] = "" if value is None else str(value)
    return values


def _report(fields: Mapping) -> dict:
    values = {column: fields.get(name) for name, column in COUNTS.items() if name in fields}
    for lifeline in LIFELINES:
        if f"lifeline_{lifeline}" in fields:
            values[lifeline_column(lifeline)] = fields[f"lifeline_{lifeline}"]
    for supply in SUPPLIES:
        if f"supply_{supply}" in fields:
            values[supply_column(supply)] = fields[f"supply_{supply}"]
    return values


def _reports_row(fields: Mapping) -> dict:
    values = _report(fields)
    values["Title"] = f"{fields.get('site_id', '')} {fields.get('received_at', '')}".strip()
    values["ReportedAt"] = _time(fields.get("received_at"))
    values["Reporter"] = fields.get("reporter_name") or None
    return values


def _sites_row(fields: Mapping) -> dict:
    values = _report(fields)
    values["Title"] = fields.get("site_name") or fields.get("site_id")
    values["LastReportAt"] = _time(fields.get("received_at"))
    values["LastReporter"] = fields.get("reporter_name") or None
    evacuees, capacity = fields.get("evacuees"), fields.get("capacity")
    use = evacuees / capacity if capacity and evacuees is not None else None
    values["CapacityUse"] = None if use is None else round(use * 100)
    if "status" in fields:
        congestion = congestion_of(ShelterStatus(fields["status"]), use)
        values["Congestion"] = congestion.name.lower()
    # A fresh report makes the site current; bot/graph/stale.py queues the row again with
    # "stale" when the site goes silent.
    values["Stale"] = bool(fields.get("stale", False))
    return values


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


TRANSLATORS: dict[str, Callable[[Mapping], dict]] = {
    "reports": _reports_row,
    "sites": _sites_row,
}
