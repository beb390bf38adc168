"""The board: the consolidated picture computed from the journal. Pure and fast.

Rows are ordered so that what needs HQ comes first: a shelter that is full or out of a
supply, then sites that have gone silent, then low supplies, then the rest; sites that
never reported come last, and the card collapses them into a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Iterable, Mapping

from bot.model import RecordedReport, ShelterStatus, Site, SupplyLevel
from bot.staff import Attendance
from bot.supplies import RecordedRequest


class Congestion(IntEnum):
    """How full a shelter is, in the five levels municipal shelter maps use."""

    UNKNOWN = 0
    CLOSED = 1
    PREPARING = 2
    AVAILABLE = 3
    SOMEWHAT_CROWDED = 4
    CROWDED = 5


class Urgency(IntEnum):
    """Sort order of rows: lower comes first."""

    CRITICAL = 0
    STALE = 1
    WARNING = 2
    NORMAL = 3
    UNREPORTED = 4


SOMEWHAT_CROWDED_AT = 0.5
CROWDED_AT = 0.8


@dataclass(frozen=True)
class SiteRow:
    site: Site
    latest: RecordedReport | None
    capacity: int | None
    use: float | None
    congestion: Congestion
    worst_supply: SupplyLevel | None
    short_supplies: tuple[str, ...]
    age: timedelta | None
    stale: bool
    urgency: Urgency


@dataclass(frozen=True)
class Totals:
    open_shelters: int
    full_shelters: int
    evacuees: int
    households: int
    care_needed: int
    capacity: int
    capacity_use: float | None
    reported_sites: int
    stale_sites: int
    critical_sites: int


@dataclass(frozen=True)
class Board:
    rows: tuple[SiteRow, ...]
    totals: Totals
    generated_at: datetime
    attendance: Attendance | None = None
    open_requests: tuple[RecordedRequest, ...] = ()

    @property
    def reported_rows(self) -> tuple[SiteRow, ...]:
        return tuple(row for row in self.rows if row.latest is not None)

    @property
    def unreported_rows(self) -> tuple[SiteRow, ...]:
        return tuple(row for row in self.rows if row.latest is None)


def compute_board(
    sites: Iterable[Site],
    latest: Mapping[str, RecordedReport],
    now: datetime,
    stale_after: timedelta,
    attendance: Attendance | None = None,
    open_requests: Iterable[RecordedRequest] = (),
) -> Board:
    """Compute the board from the registry and each site's latest report.

    Args:
        sites: every registered site, in registry order.
        latest: the newest report per site id (sites without one are unreported).
        now: the current time (aware).
        stale_after: how long an active site may go without a report.
        attendance: the staff check-ins tally, shown beside the sites.
        open_requests: supply requests not yet delivered or cancelled.
    """
    rows = [_row(site, latest.get(site.id), now, stale_after) for site in sites]
    order = {id(row): index for index, row in enumerate(rows)}
    rows.sort(key=lambda row: (row.urgency, -(row.use or 0.0), order[id(row)]))
    return Board(
        rows=tuple(rows),
        totals=_totals(rows),
        generated_at=now,
        attendance=attendance,
        open_requests=tuple(open_requests),
    )


def _row(site: Site, latest: RecordedReport | None, now: datetime, stale_after: timedelta):
    if latest is None:
        return SiteRow(
            site=site,
            latest=None,
            capacity=site.capacity,
            use=None,
            congestion=Congestion.UNKNOWN,
            worst_supply=None,
            short_supplies=(),
            age=None,
            stale=False,
            urgency=Urgency.UNREPORTED,
        )

    report = latest.report
    capacity = report.capacity or site.capacity
    use = report.evacuees / capacity if capacity else None
    age = max(now - latest.received_at, timedelta(0))
    stale = report.status is not ShelterStatus.CLOSED and age > stale_after
    worst = report.worst_supply()
    short = tuple(name for name, level in report.supplies.items() if level is not SupplyLevel.OK)

    if report.status is ShelterStatus.FULL or worst is SupplyLevel.OUT:
        urgency = Urgency.CRITICAL
    elif stale:
        urgency = Urgency.STALE
    elif worst is SupplyLevel.LOW or (use or 0) >= CROWDED_AT:
        urgency = Urgency.WARNING
    else:
        urgency = Urgency.NORMAL

    return SiteRow(
        site=site,
        latest=latest,
        capacity=capacity,
        use=use,
        congestion=congestion_of(report.status, use),
        worst_supply=worst,
        short_supplies=short,
        age=age,
        stale=stale,
        urgency=urgency,
    )


def congestion_of(status: ShelterStatus, use: float | None) -> Congestion:
    """Return the congestion level of a shelter from its status and capacity use."""
    if status is ShelterStatus.CLOSED:
        return Congestion.CLOSED
    if status is ShelterStatus.PREPARING:
        return Congestion.PREPARING
    if status is ShelterStatus.FULL or (use is not None and use >= CROWDED_AT):
        return Congestion.CROWDED
    if use is None:
        return Congestion.UNKNOWN
    if use >= SOMEWHAT_CROWDED_AT:
        return Congestion.SOMEWHAT_CROWDED
    return Congestion.AVAILABLE


def _totals(rows: list[SiteRow]) -> Totals:
    active = [
        row
        for row in rows
        if row.latest is not None
        and row.latest.report.status in (ShelterStatus.OPEN, ShelterStatus.FULL)
    ]
    evacuees = sum(row.latest.report.evacuees for row in active)
    capacity = sum(row.capacity or 0 for row in active)
    return Totals(
        open_shelters=len(active),
        full_shelters=sum(row.latest.report.status is ShelterStatus.FULL for row in active),
        evacuees=evacuees,
        households=sum(row.latest.report.households for row in active),
        care_needed=sum(row.latest.report.care_needed for row in active),
        capacity=capacity,
        capacity_use=evacuees / capacity if capacity else None,
        reported_sites=sum(row.latest is not None for row in rows),
        stale_sites=sum(row.stale for row in rows),
        critical_sites=sum(row.urgency is Urgency.CRITICAL for row in rows),
    )
