"""One person's service record: the activities they attended and their hours by month (what a
volunteer sees of themselves, and what the 服务时长证明 certifies)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance
from coordinator.auth.models import Role
from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.errors import not_found
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.stations.models import Station
from coordinator.stats.periods import local_date, month_of, zone
from coordinator.stats.queries import COUNTED_EVENT_STATUSES


@dataclass(frozen=True)
class Activity:
    event_id: int
    title: str
    theme: str
    starts_at: datetime  # in the station's zone
    status: str
    minutes: int
    location: str | None = None


@dataclass(frozen=True)
class PersonRecord:
    person: Person
    station: Station
    activities: list[Activity]

    @property
    def minutes(self) -> int:
        return sum(a.minutes for a in self.activities)

    def by_month(self) -> list[tuple[str, int, int]]:
        """(month, activities, minutes), in month order."""
        months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for activity in self.activities:
            entry = months[month_of(activity.starts_at.date())]
            entry[0] += 1
            entry[1] += activity.minutes
        return [(month, n, minutes) for month, (n, minutes) in sorted(months.items())]


async def load_person(session: AsyncSession, principal: Principal, person_id: int) -> Person:
    """A volunteer reads only themselves; staff the people of their stations; anyone else 404."""
    person = await session.get(Person, person_id)
    allowed = person is not None and (
        (principal.role is Role.volunteer and principal.person_id == person.id)
        or (principal.role in STAFF_ROLES and principal.can_access(person.station_id))
    )
    if person is None or not allowed:
        raise not_found("人员", "person", person_id)
    return person


async def person_record(
    session: AsyncSession,
    principal: Principal,
    person_id: int,
    *,
    first: date | None = None,
    last: date | None = None,
) -> PersonRecord:
    """Approved attended activities of counted events, optionally within local dates [first, last]."""
    person = await load_person(session, principal, person_id)
    station = await session.get_one(Station, person.station_id)
    query = (
        select(Event.id, Event.title, Event.theme, Event.starts_at, Attendance.status, Attendance.minutes,
               Station.timezone, Event.location)
        .join(Attendance, Attendance.event_id == Event.id)
        .join(Station, Station.id == Event.station_id)
        .where(Attendance.person_id == person.id, Attendance.approved.is_(True),
               Attendance.status.in_(ATTENDED_STATUSES), Event.status.in_(COUNTED_EVENT_STATUSES))
        .order_by(Event.starts_at, Event.id)
    )  # fmt: skip
    if first is not None:
        query = query.where(
            Event.starts_at >= datetime.combine(first - timedelta(days=1), time(), tzinfo=UTC)
        )
    if last is not None:
        query = query.where(Event.starts_at < datetime.combine(last + timedelta(days=2), time(), tzinfo=UTC))
    activities = []
    for event_id, title, theme, starts_at, status, minutes, timezone, location in await session.execute(
        query
    ):
        day = local_date(starts_at, timezone)
        if (first is None or day >= first) and (last is None or day <= last):
            local = starts_at.astimezone(zone(timezone))
            activities.append(Activity(event_id, title, theme, local, str(status), minutes, location))
    return PersonRecord(person, station, activities)
