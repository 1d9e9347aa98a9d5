"""Recomputing every roll-up from the source rows (``coordinator stats rebuild``): after a restore,
a change of rules, or to load a large history without replaying its domain events.

The per-event dimensions (local date in the station's zone) are computed in Python, one row per
event; everything per attendance row is set-based SQL (``INSERT … SELECT … GROUP BY``), so ten
million rows never pass through Python. It runs in one transaction; on PostgreSQL it truncates the
roll-up tables, so readers and handlers wait for it and then see the rebuilt state (a handler then
compares against it, so nothing is counted twice).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.elements import BindParameter

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance, ServiceHeadcount, ServiceRecord
from coordinator.db import Base, is_postgres
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.regions.models import RegionAncestor
from coordinator.stations.models import Station
from coordinator.stats.models import (
    ALL_STATIONS,
    ALL_THEMES,
    MEMBER_PARTY,
    MEMBER_PERSON,
    MEMBER_RESIDENT,
    EventPersonRollup,
    EventResidentRollup,
    EventRollup,
    StatsCell,
    StatsCellMember,
)
from coordinator.stats.periods import local_date, month_of, year_of
from coordinator.stats.queries import COUNTED_EVENT_STATUSES, MISSED_STATUSES
from coordinator.stats.rollups import COUNTERS, DISTINCT_COUNTER

BATCH = 5000
Progress = Callable[[str], None]


async def rebuild(session: AsyncSession, *, progress: Progress | None = None) -> int:
    """Recompute all roll-ups; answers how many events were counted."""
    step = progress or (lambda _: None)
    tables = (StatsCellMember, StatsCell, EventResidentRollup, EventPersonRollup, EventRollup)
    postgres = is_postgres(session)
    if postgres:
        # TRUNCATE, not DELETE: no dead rows for the planner to wade through, and the tables are
        # ours alone until commit (readers wait for the rebuilt figures instead of seeing half).
        names = ", ".join(t.__tablename__ for t in tables)
        await session.execute(text(f"TRUNCATE {names}"))
        await session.execute(text("SET LOCAL work_mem = '256MB'"))
        await session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    else:
        for table in tables:
            await session.execute(delete(table))
    step("events")
    counted = await _events(session)
    step("attendance")
    async with _bulk_load(session, EventPersonRollup, postgres=postgres):
        await _event_people(session)
    if postgres:  # fresh statistics, or the planner takes the new millions of rows for none
        await session.execute(text("ANALYZE stats_events, stats_event_people, stats_event_residents"))
    step("counters")
    await _event_counters(session)
    step("cells")
    await _cells(session, postgres=postgres)
    await session.flush()
    return counted


async def _events(session: AsyncSession) -> int:
    if is_postgres(session):
        return await _events_in_sql(session)
    query = select(
        Event.id, Event.station_id, Event.theme, Event.organization_id, Event.starts_at, Event.status,
        Station.timezone, Station.region_id,
    ).join(Station, Station.id == Event.station_id)  # fmt: skip
    rows: list[dict[str, Any]] = []
    counted = 0
    result = await session.stream(query.execution_options(yield_per=BATCH))
    async for event_id, station_id, theme, organization_id, starts_at, status, timezone, region_id in result:
        day = local_date(starts_at, timezone)
        is_counted = status in COUNTED_EVENT_STATUSES
        counted += is_counted
        rows.append({"event_id": event_id, "station_id": station_id, "region_id": region_id, "theme": theme,
                     "organization_id": organization_id, "local_date": day, "month": month_of(day),
                     "year": year_of(day), "counted": is_counted, **dict.fromkeys(COUNTERS, 0)})  # fmt: skip
        if len(rows) == BATCH:
            await session.execute(insert(EventRollup), rows)
            rows = []
    if rows:
        await session.execute(insert(EventRollup), rows)
    return counted


async def _events_in_sql(session: AsyncSession) -> int:
    """PostgreSQL knows the time zones: the local date is ``starts_at AT TIME ZONE`` the station's."""
    day = func.date(func.timezone(Station.timezone, Event.starts_at))
    counted = Event.status.in_(COUNTED_EVENT_STATUSES)
    query = select(
        Event.id, Event.station_id, Station.region_id, Event.theme, Event.organization_id, day,
        func.to_char(day, "YYYY-MM"), func.to_char(day, "YYYY"), counted, *(literal(0) for _ in COUNTERS),
    ).join(Station, Station.id == Event.station_id)  # fmt: skip
    columns = ["event_id", "station_id", "region_id", "theme", "organization_id", "local_date", "month",
               "year", "counted", *COUNTERS]  # fmt: skip
    await session.execute(insert(EventRollup).from_select(columns, query))
    found = await session.scalar(select(func.count()).where(EventRollup.counted.is_(True)))
    return int(found or 0)


@asynccontextmanager
async def _bulk_load(session: AsyncSession, table: type[Base], *, postgres: bool) -> AsyncIterator[None]:
    """On PostgreSQL, fill ``table`` without its indexes and build them afterwards: sorting once is
    many times faster than inserting millions of keys one by one into a B-tree."""
    if not postgres:
        yield
        return
    name = table.__tablename__
    indexes = [i for i in table.__table__.indexes if i.name]  # type: ignore[attr-defined]
    columns = ", ".join(c.name for c in table.__table__.primary_key.columns)  # type: ignore[attr-defined]
    await session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT pk_{name}"))
    for index in indexes:
        await session.execute(text(f"DROP INDEX {index.name}"))
    yield
    await session.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT pk_{name} PRIMARY KEY ({columns})"))
    for index in indexes:
        await session.execute(CreateIndex(index))


async def _event_people(session: AsyncSession) -> None:
    people = (
        select(Attendance.event_id, Attendance.person_id, Attendance.minutes,
               Person.is_party_member, Person.is_social_worker)
        .join(EventRollup, (EventRollup.event_id == Attendance.event_id) & EventRollup.counted.is_(True))
        .join(Person, Person.id == Attendance.person_id)
        .where(Attendance.approved.is_(True), Attendance.status.in_(ATTENDED_STATUSES))
    )  # fmt: skip
    await session.execute(
        insert(EventPersonRollup).from_select(
            ["event_id", "person_id", "minutes", "is_party_member", "is_social_worker"], people
        )
    )
    residents = select(ServiceRecord.event_id, ServiceRecord.resident_id).join(
        EventRollup, (EventRollup.event_id == ServiceRecord.event_id) & EventRollup.counted.is_(True)
    )
    await session.execute(insert(EventResidentRollup).from_select(["event_id", "resident_id"], residents))


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def _event_counters(session: AsyncSession) -> None:
    people = (
        select(
            EventPersonRollup.event_id,
            func.count().label("person_times"),
            _count_if(EventPersonRollup.is_party_member.is_(True)).label("party"),
            _count_if(EventPersonRollup.is_social_worker.is_(True)).label("social"),
            func.sum(EventPersonRollup.minutes).label("minutes"),
        )
        .group_by(EventPersonRollup.event_id)
        .subquery()
    )
    await session.execute(
        update(EventRollup)
        .where(EventRollup.event_id == people.c.event_id)
        .values(person_times=people.c.person_times, party_member_person_times=people.c.party,
                social_worker_person_times=people.c.social, volunteer_minutes=people.c.minutes)
    )  # fmt: skip
    missed = (
        select(Attendance.event_id, func.count().label("n"))
        .where(Attendance.approved.is_(True), Attendance.status.in_(MISSED_STATUSES))
        .group_by(Attendance.event_id)
        .subquery()
    )
    await session.execute(
        update(EventRollup)
        .where(EventRollup.event_id == missed.c.event_id, EventRollup.counted.is_(True))
        .values(no_shows=missed.c.n)
    )
    named = (
        select(EventResidentRollup.event_id, func.count().label("n"))
        .group_by(EventResidentRollup.event_id)
        .subquery()
    )
    await session.execute(
        update(EventRollup)
        .where(EventRollup.event_id == named.c.event_id)
        .values(residents_served_person_times=named.c.n)
    )
    await session.execute(
        update(EventRollup)
        .where(EventRollup.event_id == ServiceHeadcount.event_id, EventRollup.counted.is_(True))
        .values(
            residents_served_person_times=EventRollup.residents_served_person_times
            + ServiceHeadcount.headcount
        )
    )


# The scope of region cells: one row per region above the event's township (``_from``).
_REGION_SCOPE = -RegionAncestor.ancestor_id


def _variants() -> list[tuple[Any, Any, Any]]:
    """(scope, period, theme) column expressions of the cells each event counts in."""
    return [
        (scope, period, theme)
        for scope in (EventRollup.station_id, _REGION_SCOPE, literal(ALL_STATIONS, Integer()))
        for period in (EventRollup.month, EventRollup.year)
        for theme in (EventRollup.theme, literal(ALL_THEMES, String()))
    ]


def _from(query: Any, scope: Any) -> Any:
    """Region scopes join the closure: an event counts in its township and every region above."""
    if scope is _REGION_SCOPE:
        return query.join(RegionAncestor, RegionAncestor.region_id == EventRollup.region_id)
    return query


def _groups(*columns: Any) -> list[Any]:
    """GROUP BY the real columns only: a constant needs no grouping (and PostgreSQL refuses a
    parameter there)."""
    return [c for c in columns if not isinstance(c, BindParameter)]


async def _cells(session: AsyncSession, *, postgres: bool) -> None:
    """Members first, then every cell in one INSERT with its distinct counts joined in: no UPDATE
    leaves dead rows behind, and the cells land in the order dashboards read them (one period and
    theme across many scopes), so such a read touches a few pages instead of the whole table."""
    async with _bulk_load(session, StatsCellMember, postgres=postgres):
        for scope, period, theme in _variants():
            await _members(session, scope, period, theme)
    sums = [
        func.count().label("events"),
        *(func.sum(getattr(EventRollup, name)).label(name) for name in COUNTERS),
    ]
    variants = [
        _from(select(scope.label("scope"), period.label("period"), theme.label("theme"), *sums)
              .select_from(EventRollup), scope)
        .where(EventRollup.counted.is_(True))
        .group_by(*_groups(scope, period, theme))
        for scope, period, theme in _variants()
    ]  # fmt: skip
    cells = union_all(*variants).subquery()
    member = StatsCellMember
    distinct = (
        select(member.scope, member.period, member.theme,
               *(_count_if(member.kind == kind).label(counter) for kind, counter in DISTINCT_COUNTER.items()))
        .group_by(member.scope, member.period, member.theme)
        .subquery()
    )  # fmt: skip
    same_cell = and_(*(distinct.c[name] == cells.c[name] for name in ("scope", "period", "theme")))
    query = (
        select(
            cells.c.scope, cells.c.period, cells.c.theme, cells.c.events,
            *(cells.c[name] for name in COUNTERS),
            *(func.coalesce(distinct.c[counter], 0) for counter in DISTINCT_COUNTER.values()),
        )
        .select_from(cells.outerjoin(distinct, same_cell))
        .order_by(cells.c.period, cells.c.theme, cells.c.scope)
    )  # fmt: skip
    columns = ["scope", "period", "theme", "events", *COUNTERS, *DISTINCT_COUNTER.values()]
    await session.execute(insert(StatsCell).from_select(columns, query))


async def _members(session: AsyncSession, scope: Any, period: Any, theme: Any) -> None:
    sources: list[tuple[str, Any, Any, Any]] = [
        (MEMBER_PERSON, EventPersonRollup, EventPersonRollup.person_id, None),
        (
            MEMBER_PARTY,
            EventPersonRollup,
            EventPersonRollup.person_id,
            EventPersonRollup.is_party_member.is_(True),
        ),
        (MEMBER_RESIDENT, EventResidentRollup, EventResidentRollup.resident_id, None),
    ]
    for kind, table, member, condition in sources:
        query = _from(
            select(scope, period, theme, literal(kind, String()), member, func.count())
            .select_from(table)
            .join(EventRollup, EventRollup.event_id == table.event_id),
            scope,
        ).group_by(*_groups(scope, period, theme), member)
        if condition is not None:
            query = query.where(condition)
        await session.execute(
            insert(StatsCellMember).from_select(
                ["scope", "period", "theme", "kind", "member_id", "occurrences"], query
            )
        )
