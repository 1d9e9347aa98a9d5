"""The due list: ledger residents whose next visit, by their categories' policies, falls on or
before a given day. A resident's interval is the shortest of their categories' policies; the
next visit is due that many days after the last completed visit, or from the day they joined
the ledger when never visited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.events.models import Event, EventStatus
from coordinator.people.models import Resident, ResidentCategoryRow
from coordinator.stations.models import Station
from coordinator.visits.areas import area_of
from coordinator.visits.models import VisitOutcome, VisitRecord, VisitStop
from coordinator.visits.policies import policies


@dataclass
class DueResident:
    resident_id: int
    station_id: int
    name: str
    address: str | None
    language: str | None
    phone: str | None
    categories: list[str] = field(default_factory=list)
    last_visited_at: datetime | None = None
    interval_days: int = 0
    policy_category: str = ""
    due_on: date = date.min
    days_overdue: int = 0
    planned_event_id: int | None = None

    @property
    def area(self) -> str:
        return area_of(self.address)


def next_due(last_visit: date | None, joined: date, interval_days: int) -> date:
    return last_visit + timedelta(days=interval_days) if last_visit is not None else joined


async def last_visits(
    session: AsyncSession, station_ids: Iterable[int], *, before: datetime | None = None
) -> dict[int, datetime]:
    """resident id → their latest completed visit (before ``before``, when given)."""
    stmt = (
        select(VisitRecord.resident_id, func.max(VisitRecord.visited_at))
        .where(VisitRecord.station_id.in_(list(station_ids)), VisitRecord.outcome == VisitOutcome.visited)
        .group_by(VisitRecord.resident_id)
    )
    if before is not None:
        stmt = stmt.where(VisitRecord.visited_at < before)
    return {rid: at for rid, at in await session.execute(stmt)}


async def planned_visits(session: AsyncSession, station_ids: list[int], now: datetime) -> dict[int, int]:
    """resident id → the event of an itinerary not yet started that will visit them."""
    rows = await session.execute(
        select(VisitStop.resident_id, func.min(Event.id))
        .join(Event, Event.id == VisitStop.event_id)
        .where(
            Event.station_id.in_(station_ids),
            Event.status.in_((EventStatus.draft, EventStatus.published)),
            Event.starts_at > now,
        )
        .group_by(VisitStop.resident_id)
    )
    return {rid: event_id for rid, event_id in rows}


async def ledger_status(
    session: AsyncSession, stations: list[Station], *, now: datetime, before: datetime | None = None
) -> list[DueResident]:
    """Every active resident of the stations in a category with a policy, with their next due
    day (from visits before ``before``, default: all) and overdue days as of ``now``."""
    ids = [s.id for s in stations]
    zones = {s.id: ZoneInfo(s.timezone) for s in stations}
    intervals = await policies(session, ids)
    rows = await session.execute(
        select(
            Resident.id,
            Resident.station_id,
            Resident.name,
            Resident.address,
            Resident.language,
            Resident.phone,
            Resident.created_at,
            ResidentCategoryRow.category,
        )
        .join(ResidentCategoryRow, ResidentCategoryRow.resident_id == Resident.id)
        .where(Resident.station_id.in_(ids), Resident.is_active.is_(True))
        .order_by(Resident.id)
    )
    residents: dict[int, DueResident] = {}
    joined: dict[int, datetime] = {}
    for rid, station_id, name, address, language, phone, created_at, category in rows:
        resident = residents.get(rid)
        if resident is None:
            resident = residents[rid] = DueResident(rid, station_id, name, address, language, phone)
            joined[rid] = created_at
        resident.categories.append(category)
    last = await last_visits(session, ids, before=before)
    out = []
    for resident in residents.values():
        policy = intervals[resident.station_id]
        governing = sorted((policy[c], c) for c in resident.categories if c in policy)
        if not governing:
            continue
        zone = zones[resident.station_id]
        resident.interval_days, resident.policy_category = governing[0]
        resident.last_visited_at = last.get(resident.resident_id)
        last_day = resident.last_visited_at.astimezone(zone).date() if resident.last_visited_at else None
        joined_day = joined[resident.resident_id].astimezone(zone).date()
        resident.due_on = next_due(last_day, joined_day, resident.interval_days)
        resident.days_overdue = max(0, (now.astimezone(zone).date() - resident.due_on).days)
        out.append(resident)
    return out


@dataclass(frozen=True)
class DueFilters:
    within_days: int = 14
    category: str | None = None
    area: str | None = None
    overdue_only: bool = False


async def due_residents(
    session: AsyncSession, stations: list[Station], *, now: datetime, filters: DueFilters
) -> list[DueResident]:
    """The due list, most overdue first (then by id)."""
    ledger = await ledger_status(session, stations, now=now)
    zones = {s.id: ZoneInfo(s.timezone) for s in stations}
    planned = await planned_visits(session, [s.id for s in stations], now)
    out = []
    for resident in ledger:
        today = now.astimezone(zones[resident.station_id]).date()
        horizon = today if filters.overdue_only else today + timedelta(days=filters.within_days)
        if resident.due_on > horizon or (filters.overdue_only and resident.due_on >= today):
            continue
        if filters.category is not None and filters.category not in resident.categories:
            continue
        if filters.area is not None and resident.area != filters.area:
            continue
        resident.planned_event_id = planned.get(resident.resident_id)
        out.append(resident)
    out.sort(key=lambda r: (r.due_on, r.resident_id))
    return out


def by_area(residents: Iterable[DueResident]) -> dict[str, list[DueResident]]:
    groups: dict[str, list[DueResident]] = defaultdict(list)
    for resident in residents:
        groups[resident.area].append(resident)
    return groups
