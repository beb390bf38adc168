"""How times are written: in the SQLite journal, and in SharePoint list fields."""

from __future__ import annotations

from datetime import datetime, timezone


def db_stamp(moment: datetime) -> str:
    """Return an aware time as the journal stores it: ISO 8601 in UTC."""
    return moment.astimezone(timezone.utc).isoformat()


def graph_time(moment: datetime) -> str:
    """Return an aware time as a SharePoint dateTime column takes it (UTC, whole seconds)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
