"""The due list: ledger residents whose next visit, by their categories' policies, falls on or
before a given day. A resident's interval is the shortest of their categories' policies; the
next visit is due that many days after the last completed visit, or on the day they joined the
ledger when never visited. That rule is computed in the database (``_ledger``), so a page of a
county's list is filtered, ordered and cut there; Python only fills in the page's rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, Subquery, and_, case, exists, func, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.db import local_day
from coordinator.events.models import Event, EventStatus
from coordinator.people.models import Resident, ResidentCategoryRow
from coordinator.stations.models import Station
from coordinator.visits.areas import area_of
from coordinator.visits.models import VisitOutcome, VisitRecord, VisitStop
from coordinator.visits.policies import CATEGORY_CODES, policies

EPOCH = date(1970, 1, 1)  # day number 0 of ``local_day``
K = TypeVar("K", bound=Hashable)
_SLICE = 10_000


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


@dataclass(frozen=True)
class DueFilters:
    within_days: int = 14
    category: str | None = None
    area: str | None = None
    overdue_only: bool = False


def _per_station(
    station: ColumnElement[int] | InstrumentedAttribute[int],
    values: dict[int, K],
    render: Callable[[K], ColumnElement[Any]],
) -> ColumnElement[Any]:
    """``render(values[station])`` for each row's station: one CASE over the stations grouped by
    value, or the value itself when they share it (a county's stations mostly do)."""
    groups: dict[K, list[int]] = defaultdict(list)
    for station_id, value in values.items():
        groups[value].append(station_id)
    if len(groups) == 1:
        return render(next(iter(groups)))
    return case(*((station.in_(ids), render(value)) for value, ids in groups.items())) if groups else null()


# A category's policy as one number, days × slots + the category's place by name: the least of
# a resident's numbers is their governing policy, the shortest interval and, between equals, the
# first category by name.
_CATEGORIES = sorted(CATEGORY_CODES)
_SLOTS = len(_CATEGORIES)


def _governing(policy: tuple[tuple[str, int], ...]) -> ColumnElement[Any]:
    numbers = {c: days * _SLOTS + _CATEGORIES.index(c) for c, days in policy}
    return case(numbers, value=ResidentCategoryRow.category) if numbers else null()


async def _ledger(
    session: AsyncSession, stations: list[Station], now: datetime, before: datetime | None
) -> Subquery:
    """Each active resident of the stations in a category with a policy: the governing interval
    and category, the last completed visit (before ``before``, when given), the due day and today
    as day numbers in the station's time zone. The zone's offset is taken at ``now``: stations
    keep one offset all year (China Standard Time)."""
    ids = [s.id for s in stations]
    intervals = await policies(session, ids)
    offsets: dict[int, int] = {}
    today: dict[int, int] = {}
    for s in stations:
        local = now.astimezone(ZoneInfo(s.timezone))
        offsets[s.id] = int((local.utcoffset() or timedelta()).total_seconds())
        today[s.id] = (local.date() - EPOCH).days
    policy = _per_station(
        Resident.station_id, {sid: tuple(sorted(p.items())) for sid, p in intervals.items()}, _governing
    )
    last = select(VisitRecord.resident_id, func.max(VisitRecord.visited_at).label("at")).where(
        VisitRecord.station_id.in_(ids), VisitRecord.outcome == VisitOutcome.visited
    )
    if before is not None:
        last = last.where(VisitRecord.visited_at < before)
    visited = last.group_by(VisitRecord.resident_id).subquery()
    # Joined to the residents' rows, not to another aggregate: PostgreSQL then knows one row
    # meets one, and plans the county's 100,000 rows as such.
    governing = (
        select(
            Resident.id,
            Resident.station_id,
            Resident.created_at,
            func.max(visited.c.at).label("at"),
            func.min(policy).label("policy"),
        )
        .join(ResidentCategoryRow, ResidentCategoryRow.resident_id == Resident.id)
        .outerjoin(visited, visited.c.resident_id == Resident.id)
        .where(Resident.station_id.in_(ids), Resident.is_active.is_(True), policy.is_not(None))
        .group_by(Resident.id)  # the station and joined day follow from the id
        .subquery()
    )
    offset = _per_station(governing.c.station_id, offsets, literal)
    interval = governing.c.policy // _SLOTS
    due_day = func.coalesce(
        local_day(governing.c.at, offset) + interval, local_day(governing.c.created_at, offset)
    )
    return select(
        governing.c.id.label("resident_id"),
        governing.c.station_id,
        governing.c.policy,
        governing.c.at.label("last_visited_at"),
        due_day.label("due_day"),
        _per_station(governing.c.station_id, today, literal).label("today"),
    ).subquery("ledger")


async def _residents(session: AsyncSession, rows: Iterable[Row[Any]]) -> list[DueResident]:
    """Ledger rows as due residents, with their name, address … and categories, in that order."""
    out = [
        DueResident(
            row.resident_id,
            row.station_id,
            "",
            None,
            None,
            None,
            last_visited_at=row.last_visited_at,
            interval_days=row.policy // _SLOTS,
            policy_category=_CATEGORIES[row.policy % _SLOTS],
            due_on=EPOCH + timedelta(days=row.due_day),
            days_overdue=max(0, row.today - row.due_day),
        )
        for row in rows
    ]
    if not out:
        return out
    by_id = {r.resident_id: r for r in out}
    ids = list(by_id)
    # In slices: a whole county's list (filtered by area) must stay under the drivers' limits on
    # bound parameters.
    for start in range(0, len(ids), _SLICE):
        some = ids[start : start + _SLICE]
        details = await session.execute(
            select(Resident.id, Resident.name, Resident.address, Resident.language, Resident.phone).where(
                Resident.id.in_(some)
            )
        )
        for rid, name, address, language, phone in details:
            resident = by_id[rid]
            resident.name, resident.address, resident.language, resident.phone = (
                name,
                address,
                language,
                phone,
            )
        categories = await session.execute(
            select(ResidentCategoryRow.resident_id, ResidentCategoryRow.category)
            .where(ResidentCategoryRow.resident_id.in_(some))
            .order_by(ResidentCategoryRow.resident_id, ResidentCategoryRow.category)
        )
        for rid, category in categories:
            by_id[rid].categories.append(category)
    return out


async def ledger_status(
    session: AsyncSession, stations: list[Station], *, now: datetime, before: datetime | None = None
) -> list[DueResident]:
    """Every active resident of the stations in a category with a policy, with their next due
    day (from visits before ``before``, default: all) and overdue days as of ``now``."""
    if not stations:
        return []
    ledger = await _ledger(session, stations, now, before)
    return await _residents(session, await session.execute(select(ledger).order_by(ledger.c.resident_id)))


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


def _due(ledger: Subquery, filters: DueFilters) -> list[ColumnElement[bool]]:
    """The conditions of the due list on ledger rows, but the area (an address rule in Python)."""
    due, today = ledger.c.due_day, ledger.c.today
    conditions = [due < today] if filters.overdue_only else [due <= today + filters.within_days]
    if filters.category is not None:
        conditions.append(
            exists().where(
                ResidentCategoryRow.resident_id == ledger.c.resident_id,
                ResidentCategoryRow.category == filters.category,
            )
        )
    return conditions


async def _planned(session: AsyncSession, residents: list[DueResident], now: datetime) -> None:
    planned = await planned_visits(session, sorted({r.station_id for r in residents}), now)
    for resident in residents:
        resident.planned_event_id = planned.get(resident.resident_id)


async def due_residents(
    session: AsyncSession, stations: list[Station], *, now: datetime, filters: DueFilters
) -> list[DueResident]:
    """The due list, most overdue first (then by id)."""
    if not stations:
        return []
    ledger = await _ledger(session, stations, now, None)
    rows = await session.execute(
        select(ledger).where(*_due(ledger, filters)).order_by(ledger.c.due_day, ledger.c.resident_id)
    )
    out = [r for r in await _residents(session, rows) if filters.area in (None, r.area)]
    await _planned(session, out, now)
    return out


async def due_window(
    session: AsyncSession,
    stations: list[Station],
    *,
    now: datetime,
    filters: DueFilters,
    after: tuple[date, int] | None,
    limit: int,
) -> tuple[list[DueResident], int]:
    """Up to ``limit + 1`` residents of the due list after the ``(due day, id)`` position, and
    how many the whole list holds. Filtered by area, the list is cut in Python."""
    if filters.area is not None or not stations:
        residents = await due_residents(session, stations, now=now, filters=filters)
        later = [r for r in residents if after is None or (r.due_on, r.resident_id) > after]
        return later[: limit + 1], len(residents)
    ledger = await _ledger(session, stations, now, None)
    counted = select(ledger, func.count().over().label("total")).where(*_due(ledger, filters)).subquery()
    page = select(counted).order_by(counted.c.due_day, counted.c.resident_id).limit(limit + 1)
    if after is not None:
        day = (after[0] - EPOCH).days
        page = page.where(
            or_(counted.c.due_day > day, and_(counted.c.due_day == day, counted.c.resident_id > after[1]))
        )
    rows = list(await session.execute(page))
    if rows:
        total = rows[0].total
    else:  # past the end of the list: count it on its own
        total = (
            await session.scalar(select(func.count()).select_from(ledger).where(*_due(ledger, filters))) or 0
        )
    out = await _residents(session, rows)
    await _planned(session, out, now)
    return out, total


def by_area(residents: Iterable[DueResident]) -> dict[str, list[DueResident]]:
    groups: dict[str, list[DueResident]] = defaultdict(list)
    for resident in residents:
        groups[resident.area].append(resident)
    return groups
