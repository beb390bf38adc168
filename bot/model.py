"""Domain types and their validation. Pure: no I/O, no Teams or Graph types.

A card submission arrives as a dict of strings; `parse_shelter_report` turns it into a
`ShelterReport` or a `Rejection` that names each bad field with a message key (the
locale files hold the words), so the card can come back with the user's values kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Mapping


class SiteKind(str, Enum):
    SHELTER = "shelter"
    WARD_OFFICE = "ward_office"
    CITY_HALL = "city_hall"
    OTHER = "other"


@dataclass(frozen=True)
class Site:
    """A place that reports: a shelter, a ward office, city hall."""

    id: str
    name_ja: str
    name_en: str = ""
    kind: SiteKind = SiteKind.SHELTER
    kana: str = ""
    capacity: int | None = None
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None

    def name(self, lang: str) -> str:
        """Return the name in `lang` ("ja" or "en"), falling back to the other one."""
        if lang == "en":
            return self.name_en or self.name_ja
        return self.name_ja or self.name_en


class ShelterStatus(str, Enum):
    PREPARING = "preparing"
    OPEN = "open"
    FULL = "full"
    CLOSED = "closed"


class Lifeline(str, Enum):
    OK = "ok"
    LIMITED = "limited"
    DOWN = "down"


class SupplyLevel(str, Enum):
    OK = "ok"
    LOW = "low"
    OUT = "out"


LIFELINES = ("power", "water", "gas", "telecom")
# The national push-support basics, plus water and medicine.
SUPPLIES = (
    "water",
    "food",
    "blankets",
    "medicine",
    "toilets",
    "formula",
    "diapers",
    "sanitary",
)
SUPPLY_SEVERITY = {SupplyLevel.OK: 0, SupplyLevel.LOW: 1, SupplyLevel.OUT: 2}

MAX_PEOPLE = 100_000
MAX_NEEDS_LENGTH = 500


@dataclass(frozen=True)
class Reporter:
    """Who made a record, as Teams names them."""

    user_id: str
    aad_object_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class ShelterReport:
    """One accepted shelter status report."""

    site_id: str
    status: ShelterStatus
    evacuees: int
    households: int
    care_needed: int
    capacity: int | None
    lifelines: Mapping[str, Lifeline]
    supplies: Mapping[str, SupplyLevel]
    needs: str = ""

    def worst_supply(self) -> SupplyLevel:
        return max(self.supplies.values(), key=SUPPLY_SEVERITY.__getitem__, default=SupplyLevel.OK)

    def to_fields(self) -> dict[str, str]:
        """Return the report as card input values (the inverse of parse_shelter_report)."""
        values = {
            "site_id": self.site_id,
            "status": self.status.value,
            "evacuees": str(self.evacuees),
            "households": str(self.households),
            "care_needed": str(self.care_needed),
            "capacity": "" if self.capacity is None else str(self.capacity),
            "needs": self.needs,
        }
        values.update({f"lifeline_{k}": v.value for k, v in self.lifelines.items()})
        values.update({f"supply_{k}": v.value for k, v in self.supplies.items()})
        return values


@dataclass(frozen=True)
class RecordedReport:
    """A report as the journal holds it: who, when, and the submission it came from."""

    id: int
    submission_id: str
    report: ShelterReport
    reporter: Reporter
    received_at: datetime


@dataclass
class Rejection:
    """Why a submission was refused: field name -> message key in the locale files."""

    errors: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, key: str) -> None:
        self.errors.setdefault(name, key)

    def __bool__(self) -> bool:
        return bool(self.errors)


def parse_shelter_report(
    values: Mapping[str, object], known_sites: Mapping[str, Site]
) -> ShelterReport | Rejection:
    """Validate a shelter report card submission.

    Args:
        values: the card's input values (strings, as Teams sends them).
        known_sites: the registry, by site id.

    Returns:
        The report, or a Rejection naming every bad field with a locale message key.
    """
    rejection = Rejection()
    text = {k: ("" if v is None else str(v)).strip() for k, v in values.items()}

    site_id = parse_site(text, known_sites, rejection)
    status = parse_choice(text, "status", ShelterStatus, rejection)
    evacuees = _count(text, "evacuees", rejection, required=True)
    households = _count(text, "households", rejection, required=True)
    care_needed = _count(text, "care_needed", rejection, required=False)
    capacity = _count(text, "capacity", rejection, required=False, minimum=1)

    if evacuees is not None and households is not None and households > evacuees:
        rejection.add("households", "error_households_exceed")
    if evacuees is not None and care_needed is not None and care_needed > evacuees:
        rejection.add("care_needed", "error_care_exceed")

    lifelines = {
        name: parse_choice(text, f"lifeline_{name}", Lifeline, rejection) for name in LIFELINES
    }
    supplies = {
        name: parse_choice(text, f"supply_{name}", SupplyLevel, rejection) for name in SUPPLIES
    }

    needs = text.get("needs", "")
    if len(needs) > MAX_NEEDS_LENGTH:
        rejection.add("needs", "error_too_long")

    if rejection:
        return rejection
    return ShelterReport(
        site_id=site_id,
        status=status,
        evacuees=evacuees,
        households=households,
        care_needed=care_needed or 0,
        capacity=capacity,
        lifelines=lifelines,
        supplies=supplies,
        needs=needs,
    )


def _count(
    text: Mapping[str, str],
    name: str,
    rejection: Rejection,
    *,
    required: bool,
    minimum: int = 0,
) -> int | None:
    raw = text.get(name, "")
    if not raw:
        if required:
            rejection.add(name, "error_required")
        return None
    # Teams sends Input.Number values as strings; "12.0" is a whole number, "12.5" is not.
    try:
        number = float(raw.replace(",", ""))
    except ValueError:
        rejection.add(name, "error_not_number")
        return None
    if number != number or not number.is_integer():
        rejection.add(name, "error_not_whole")
        return None
    value = int(number)
    if value < minimum:
        rejection.add(name, "error_negative" if minimum == 0 else "error_capacity_min")
        return None
    if value > MAX_PEOPLE:
        rejection.add(name, "error_too_large")
        return None
    return value


def parse_site(text: Mapping[str, str], known_sites: Mapping[str, Site], rejection: Rejection):
    """Return the registered site id that field `site_id` holds, noting why not in `rejection`."""
    site_id = text.get("site_id", "")
    if not site_id:
        rejection.add("site_id", "error_required")
    elif site_id not in known_sites:
        rejection.add("site_id", "error_unknown_site")
    return site_id


def parse_choice(text: Mapping[str, str], name: str, kind: type[Enum], rejection: Rejection):
    """Return the member of `kind` that field `name` holds, or None, noting why in `rejection`."""
    raw = text.get(name, "")
    if not raw:
        rejection.add(name, "error_required")
        return None
    try:
        return kind(raw)
    except ValueError:
        rejection.add(name, "error_choice")
        return None
