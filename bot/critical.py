"""Critical changes: what in a new report HQ must hear about at once. Pure.

A change is critical when a site moves into a state that needs action: a supply running
out, a shelter becoming full, a lifeline going down. Only the move counts, so a site
that keeps reporting the same shortage alerts once, and again only after it recovered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.model import Lifeline, ShelterReport, ShelterStatus, SupplyLevel


class ChangeKind(str, Enum):
    FULL = "full"
    LIFELINE_DOWN = "lifeline_down"
    SUPPLY_OUT = "supply_out"


@dataclass(frozen=True)
class Change:
    """One critical change at a site; `item` names the lifeline or supply."""

    kind: ChangeKind
    item: str = ""


def critical_changes(before: ShelterReport | None, after: ShelterReport) -> list[Change]:
    """Return the critical changes from `before` (None: no earlier report) to `after`.

    Ordered as HQ reads them: full first, then lifelines, then supplies.
    """
    changes = []
    if after.status is ShelterStatus.FULL and (before is None or before.status is not after.status):
        changes.append(Change(ChangeKind.FULL))
    for name, level in after.lifelines.items():
        if level is Lifeline.DOWN and (before is None or before.lifelines.get(name) is not level):
            changes.append(Change(ChangeKind.LIFELINE_DOWN, name))
    for name, level in after.supplies.items():
        if level is SupplyLevel.OUT and (before is None or before.supplies.get(name) is not level):
            changes.append(Change(ChangeKind.SUPPLY_OUT, name))
    return changes


def still_true(change: Change, report: ShelterReport) -> bool:
    """Return True when `report` still shows the state `change` moved into."""
    if change.kind is ChangeKind.FULL:
        return report.status is ShelterStatus.FULL
    if change.kind is ChangeKind.LIFELINE_DOWN:
        return report.lifelines.get(change.item) is Lifeline.DOWN
    return report.supplies.get(change.item) is SupplyLevel.OUT
