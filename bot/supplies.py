"""Supply requests (物資要請) and their lifecycle. Pure: no I/O.

A site asks HQ for supplies; HQ approves, dispatches or cancels the request, and the
site (or HQ) confirms delivery:

    requested -> approved -> dispatched -> delivered
        |            |
        +------------+-> cancelled          (requested may also go straight to dispatched)

Every move is an event with who, when and from where (Teams or the SharePoint list);
the request's state is its latest event. `check_move` says whether a move is allowed
for a person, so a card button and an edit in the list obey the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Mapping

from bot.model import Rejection, Reporter, Site, parse_choice, parse_site

MAX_ITEMS_LENGTH = 1000
MAX_NOTE_LENGTH = 300


class RequestState(str, Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Priority(str, Enum):
    URGENT = "urgent"
    NORMAL = "normal"


MOVES = {
    RequestState.REQUESTED: (
        RequestState.APPROVED,
        RequestState.DISPATCHED,
        RequestState.CANCELLED,
    ),
    RequestState.APPROVED: (RequestState.DISPATCHED, RequestState.CANCELLED),
    RequestState.DISPATCHED: (RequestState.DELIVERED,),
    RequestState.DELIVERED: (),
    RequestState.CANCELLED: (),
}
OPEN_STATES = (RequestState.REQUESTED, RequestState.APPROVED, RequestState.DISPATCHED)
# Only HQ decides; anyone at the site may confirm that the goods arrived.
HQ_MOVES = (RequestState.APPROVED, RequestState.DISPATCHED, RequestState.CANCELLED)


@dataclass(frozen=True)
class SupplyRequest:
    """What a site asks for: items with quantities, as the requester wrote them."""

    site_id: str
    items: str
    priority: Priority

    def to_fields(self) -> dict[str, str]:
        return {"site_id": self.site_id, "items": self.items, "priority": self.priority.value}


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the journal holds it, with its current state.

    Attributes:
        updated_by: the name of whoever made the latest move (the requester at first).
        note: HQ's note with the latest move (e.g. "2 trucks, arriving 15:00").
    """

    id: int
    submission_id: str
    request: SupplyRequest
    requester: Reporter
    requested_at: datetime
    state: RequestState
    updated_at: datetime
    updated_by: str
    note: str = ""

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class RequestEvent:
    """One event of a request: a move, or a note from HQ in the same state.

    `source` is "teams" or "lists" (HQ edited the list).
    """

    request_id: int
    state: RequestState
    actor: Reporter
    at: datetime
    note: str
    source: str


def parse_supply_request(
    values: Mapping[str, object], known_sites: Mapping[str, Site]
) -> SupplyRequest | Rejection:
    """Validate a supply request card submission.

    Returns:
        The request, or a Rejection naming every bad field with a locale message key.
    """
    rejection = Rejection()
    text = {k: ("" if v is None else str(v)).strip() for k, v in values.items()}

    site_id = parse_site(text, known_sites, rejection)

    items = text.get("items", "")
    if not items:
        rejection.add("items", "error_items_required")
    elif len(items) > MAX_ITEMS_LENGTH:
        rejection.add("items", "error_items_too_long")

    priority = parse_choice(text, "priority", Priority, rejection)
    if rejection:
        return rejection
    return SupplyRequest(site_id, items, priority)


def check_move(current: RequestState, target: RequestState, hq: bool) -> str | None:
    """Return None when a person may move a request from `current` to `target`.

    Returns:
        Otherwise the locale message key saying why not.
    """
    if target is current:
        return "request_already"
    if target not in MOVES[current]:
        return "request_move_invalid"
    if target in HQ_MOVES and not hq:
        return "request_hq_only"
    return None
