"""The plain recount: statistics straight from attendance, sign-up and service rows.

It is the definition the roll-ups must agree with (invariant 5), and the answer for group-bys the
roll-ups do not keep (organization, week, role, Party branch) or periods that are not a whole
month or year. Rows are read once and tallied in Python, which keeps the rules in one readable
place: approved rows with an attended status count; cancelled and draft events never count; an
event falls on the local date of its start in its station's zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceStatus,
    ServiceHeadcount,
    ServiceRecord,
)
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupStatus
from coordinator.people.models import Person
from coordinator.stations.models import Station
from coordinator.stats.figures import PERSON_DIMENSIONS, Dimension, Figures, Key, Participation, sort_key
from coordinator.stats.periods import local_date, month_of, utc_window, week_of

COUNTED_EVENT_STATUSES = (EventStatus.published, EventStatus.completed)
# Expected but not there: a roster's "absent" and the completion tick's "no_show".
MISSED_STATUSES = (AttendanceStatus.absent, AttendanceStatus.no_show)
_ATTENDED = frozenset(str(s) for s in ATTENDED_STATUSES)


@dataclass(frozen=True)
class EventFacts:
    id: int
    station_id: int
    theme: str
    organization_id: int | None
    day: date
    named_residents: frozenset[int]
    headcount: int

    def dimension(self, name: str) -> Any:
        if name == "station":
            return self.station_id
        if name == "theme":
            return self.theme
        if name == "organization":
            return self.organization_id
        if name == "month":
            return month_of(self.day)
        if name == "week":
            return week_of(self.day)
        raise ValueError(name)


@dataclass(frozen=True)
class AttendanceFacts:
    event_id: int
    person_id: int
    attended: bool
    minutes: int
    is_party_member: bool
    is_social_worker: bool
    party_branch: str | None
    role: str | None


@dataclass
class Tally:
    event_ids: set[int] = field(default_factory=set)
    person_times: int = 0
    people: set[int] = field(default_factory=set)
    party_person_times: int = 0
    party_members: set[int] = field(default_factory=set)
    social_worker_person_times: int = 0
    minutes: int = 0
    no_shows: int = 0

    def add(self, row: AttendanceFacts) -> None:
        if not row.attended:
            self.no_shows += 1
            return
        self.event_ids.add(row.event_id)
        self.person_times += 1
        self.people.add(row.person_id)
        self.minutes += row.minutes
        if row.is_party_member:
            self.party_person_times += 1
            self.party_members.add(row.person_id)
        if row.is_social_worker:
            self.social_worker_person_times += 1

    def figures(self, events: dict[int, EventFacts]) -> Figures:
        served = [events[event_id] for event_id in self.event_ids]
        named: set[int] = set().union(*(e.named_residents for e in served)) if served else set()
        return Figures(
            events=len(self.event_ids),
            person_times=self.person_times,
            distinct_people=len(self.people),
            party_member_person_times=self.party_person_times,
            distinct_party_members=len(self.party_members),
            social_worker_person_times=self.social_worker_person_times,
            volunteer_minutes=self.minutes,
            residents_served_person_times=sum(len(e.named_residents) + e.headcount for e in served),
            distinct_residents_served=len(named),
            no_shows=self.no_shows,
        )


async def recount(
    session: AsyncSession,
    *,
    station_ids: Collection[int] | None,
    first: date,
    last: date,
    group_by: tuple[Dimension, ...],
    regions: Mapping[int, int] | None = None,
) -> Participation:
    """Statistics of the events of ``station_ids`` (None: every station) whose local start date is
    in [first, last], grouped by ``group_by``. Grouped by region, ``regions`` maps each station to
    its row's region; events of stations outside those regions count in the totals only."""
    events = await counted_events(session, station_ids=station_ids, first=first, last=last)
    facts = await attendance_facts(session, events, with_roles="role" in group_by)
    by_person = any(d in PERSON_DIMENSIONS for d in group_by)
    tallies: dict[Key, Tally] = defaultdict(Tally)
    total = Tally()
    rows_of: Mapping[int, int] = regions or {}

    def in_rows(event: EventFacts) -> bool:
        return "region" not in group_by or event.station_id in rows_of

    for event in events.values():
        total.event_ids.add(event.id)
        if not by_person and in_rows(event):
            tallies[tuple(_value(d, event, None, rows_of) for d in group_by)].event_ids.add(event.id)
    for row in facts:
        event = events[row.event_id]
        total.add(row)
        if in_rows(event):
            tallies[tuple(_value(d, event, row, rows_of) for d in group_by)].add(row)
    rows = [(key, tallies[key].figures(events)) for key in sorted(tallies, key=sort_key)]
    return Participation(group_by=group_by, rows=rows, totals=total.figures(events), source="recount")


def _value(name: str, event: EventFacts, row: AttendanceFacts | None, regions: Mapping[int, int]) -> Any:
    if name == "region":
        return regions[event.station_id]
    if row is None:
        return event.dimension(name)
    if name == "role":
        return row.role
    if name == "party_branch":
        return row.party_branch if row.is_party_member else None
    return event.dimension(name)


def _in_window(query: Any, station_ids: Collection[int] | None, first: date, last: date) -> Any:
    start, end = utc_window(first, last)
    query = query.where(
        Event.status.in_(COUNTED_EVENT_STATUSES), Event.starts_at >= start, Event.starts_at < end
    )
    if station_ids is not None:
        query = query.where(Event.station_id.in_(sorted(station_ids)))
    return query


async def counted_events(
    session: AsyncSession, *, station_ids: Collection[int] | None, first: date, last: date
) -> dict[int, EventFacts]:
    query = _in_window(
        select(Event.id, Event.station_id, Event.theme, Event.organization_id, Event.starts_at,
               Station.timezone)
        .join(Station, Station.id == Event.station_id),
        station_ids, first, last,
    )  # fmt: skip
    found: dict[int, tuple[int, str, int | None, date]] = {}
    for event_id, station_id, theme, organization_id, starts_at, timezone in await session.execute(query):
        day = local_date(starts_at, timezone)
        if first <= day <= last:
            found[event_id] = (station_id, theme, organization_id, day)
    named, headcounts = await _served(session, found, station_ids, first, last)
    return {
        event_id: EventFacts(event_id, station_id, theme, organization_id, day,
                             frozenset(named.get(event_id, ())), headcounts.get(event_id, 0))
        for event_id, (station_id, theme, organization_id, day) in found.items()
    }  # fmt: skip


async def upcoming_events(
    session: AsyncSession, *, station_ids: Collection[int] | None, first: date, last: date, now: datetime
) -> list[tuple[str, str]]:
    """(month, theme) of each counted event of the period that has not started by ``now``: among
    the period's activities, but not held yet."""
    query = _in_window(
        select(Event.theme, Event.starts_at, Station.timezone)
        .join(Station, Station.id == Event.station_id)
        .where(Event.starts_at > now),
        station_ids, first, last,
    )  # fmt: skip
    days = [
        (local_date(starts_at, timezone), theme)
        for theme, starts_at, timezone in await session.execute(query)
    ]
    return [(month_of(day), theme) for day, theme in days if first <= day <= last]


async def _served(
    session: AsyncSession,
    wanted: Collection[int],
    station_ids: Collection[int] | None,
    first: date,
    last: date,
) -> tuple[dict[int, set[int]], dict[int, int]]:
    named: dict[int, set[int]] = defaultdict(set)
    records = _in_window(
        select(ServiceRecord.event_id, ServiceRecord.resident_id)
        .join(Event, Event.id == ServiceRecord.event_id),
        station_ids, first, last,
    )  # fmt: skip
    for event_id, resident_id in await session.execute(records):
        if event_id in wanted:
            named[event_id].add(resident_id)
    counts = _in_window(
        select(ServiceHeadcount.event_id, ServiceHeadcount.headcount)
        .join(Event, Event.id == ServiceHeadcount.event_id),
        station_ids, first, last,
    )  # fmt: skip
    headcounts = {event_id: n for event_id, n in await session.execute(counts) if event_id in wanted}
    return named, headcounts


async def attendance_facts(
    session: AsyncSession, events: dict[int, EventFacts], *, with_roles: bool
) -> list[AttendanceFacts]:
    """Approved attendance rows of ``events`` that either count (attended) or were expected (missed)."""
    if not events:
        return []
    days = sorted(e.day for e in events.values())
    stations = {e.station_id for e in events.values()}
    query = _in_window(
        select(Attendance.event_id, Attendance.person_id, Attendance.status, Attendance.minutes,
               Person.is_party_member, Person.is_social_worker, Person.party_branch)
        .join(Event, Event.id == Attendance.event_id)
        .join(Person, Person.id == Attendance.person_id)
        .where(Attendance.approved.is_(True),
               Attendance.status.in_([*ATTENDED_STATUSES, *MISSED_STATUSES])),
        stations, days[0], days[-1],
    )  # fmt: skip
    rows = [r for r in await session.execute(query) if r.event_id in events]
    roles = await _roles(session, {r.event_id for r in rows}) if with_roles else {}
    return [
        AttendanceFacts(
            event_id=r.event_id,
            person_id=r.person_id,
            attended=str(r.status) in _ATTENDED,
            minutes=r.minutes,
            is_party_member=r.is_party_member,
            is_social_worker=r.is_social_worker,
            party_branch=r.party_branch,
            role=roles.get((r.event_id, r.person_id)),
        )
        for r in rows
    ]


async def _roles(session: AsyncSession, event_ids: Iterable[int]) -> dict[tuple[int, int], str]:
    """The role a person attended an event in: their confirmed sign-up's, else their latest sign-up's;
    walk-ins without any sign-up have none."""
    ids = sorted(event_ids)
    chosen: dict[tuple[int, int], tuple[bool, int, str]] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(Signup.event_id, Signup.person_id, Signup.status, Signup.id, EventRole.name)
            .join(EventRole, EventRole.id == Signup.role_id)
            .where(Signup.event_id.in_(ids[start : start + 500]))
        )
        for event_id, person_id, status, signup_id, role in await session.execute(query):
            rank = (status == SignupStatus.confirmed, signup_id, role)
            key = (event_id, person_id)
            if key not in chosen or rank > chosen[key]:
                chosen[key] = rank
    return {key: rank[2] for key, rank in chosen.items()}
