"""A small history for statistics tests at two stations: events across months and themes, people
with and without Party membership, ledger residents; and the writes the attendance and event
services make (source row + domain event), so the roll-up handlers see exactly what production
sends them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import Attendance, AttendanceStatus, ServiceHeadcount, ServiceRecord
from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.events.models import Event, EventStatus
from coordinator.people.models import Person
from coordinator.stations.models import Organization, Station
from tests.factories import (
    create_event,
    create_organization,
    create_person,
    create_resident,
    create_signup,
)

# Local start times chosen to sit on period edges in Asia/Shanghai (UTC+8).
EVENT_STARTS = (
    datetime(2026, 10, 15, 2, 0, tzinfo=UTC),  # 15 Oct, 10:00
    datetime(2026, 11, 5, 1, 0, tzinfo=UTC),  # 5 Nov
    datetime(2026, 11, 30, 17, 0, tzinfo=UTC),  # 1 Dec 01:00 local: December, not November
    datetime(2025, 12, 31, 20, 0, tzinfo=UTC),  # 1 Jan 2026 04:00 local: the year 2026
    datetime(2026, 11, 20, 2, 0, tzinfo=UTC),  # 20 Nov
)
THEMES = ("party_volunteer_drive", "home_visit", "party_volunteer_drive", "heritage", "home_visit")


@dataclass
class History:
    station: Station
    other: Station
    organization: Organization
    events: list[Event]
    people: list[Person]
    resident_ids: list[int]


async def make_history(session: AsyncSession, clock: Clock, station: Station, other: Station) -> History:
    """Events at ``station`` (the last one at ``other``), their sign-ups, people and residents."""
    organization = await create_organization(session, clock, station)
    events: list[Event] = []
    for i, (starts_at, theme) in enumerate(zip(EVENT_STARTS, THEMES, strict=True)):
        where = other if i == len(EVENT_STARTS) - 1 else station
        event = await create_event(
            session, clock, where, theme=theme, starts_in=starts_at - clock.now(),
            organization_id=organization.id if i % 2 == 0 and where is station else None,
            roles=[{"name": "志愿者", "count": 5}, {"name": "摄影", "count": 2}],
        )  # fmt: skip
        events.append(event)
        await announce_event(session, clock, event, DomainEventType.event_published)
    people = [
        await create_person(session, clock, station, is_party_member=i % 2 == 0,
                            party_branch=f"第{i % 2 + 1}党支部" if i % 2 == 0 else None,
                            is_social_worker=i == 1)
        for i in range(4)
    ]  # fmt: skip
    for event in events[:3]:
        for person in people[:2]:
            await create_signup(session, clock, event, person)
        await create_signup(session, clock, event, people[2], role=event.roles[1])
    residents = [await create_resident(session, clock, station) for _ in range(3)]
    return History(station, other, organization, events, people, [r.id for r in residents])


async def announce_event(
    session: AsyncSession, clock: Clock, event: Event, event_type: DomainEventType
) -> None:
    payload = {"event_id": event.id, "station_id": event.station_id}
    await emit(session, clock, event_type, aggregate_type="event", aggregate_id=event.id,
               station_id=event.station_id, payload=payload)  # fmt: skip


async def write_attendance(
    session: AsyncSession,
    clock: Clock,
    event: Event,
    person_id: int,
    *,
    status: AttendanceStatus,
    minutes: int,
    approved: bool = True,
) -> None:
    """Insert or correct a person's attendance row, announcing it as ``recording.announce`` does."""
    row = await session.scalar(
        select(Attendance).where(Attendance.event_id == event.id, Attendance.person_id == person_id)
    )
    change = "updated"
    if row is None:
        change = "created"
        row = Attendance(event_id=event.id, person_id=person_id, station_id=event.station_id,
                         method="roster", walk_in=False, minutes_overridden=True,
                         created_at=clock.now(), updated_at=clock.now(), status=status)  # fmt: skip
        session.add(row)
    row.status, row.minutes, row.approved = status, minutes, approved
    await session.flush()
    await _announce_attendance(session, clock, row, change)


async def delete_attendance(session: AsyncSession, clock: Clock, event: Event, person_id: int) -> None:
    row = await session.scalar(
        select(Attendance).where(Attendance.event_id == event.id, Attendance.person_id == person_id)
    )
    if row is None:
        return
    await session.delete(row)
    await session.flush()
    await _announce_attendance(session, clock, row, "deleted")


async def _announce_attendance(session: AsyncSession, clock: Clock, row: Attendance, change: str) -> None:
    payload: dict[str, Any] = {"attendance_id": row.id, "event_id": row.event_id, "person_id": row.person_id,
                               "station_id": row.station_id, "change": change}  # fmt: skip
    await emit(session, clock, DomainEventType.attendance_recorded, aggregate_type="attendance",
               aggregate_id=row.id, station_id=row.station_id, payload=payload)  # fmt: skip


async def serve(session: AsyncSession, clock: Clock, event: Event, resident_id: int, *, add: bool) -> None:
    if add:
        exists = await session.scalar(
            select(ServiceRecord.id).where(ServiceRecord.event_id == event.id,
                                           ServiceRecord.resident_id == resident_id)
        )  # fmt: skip
        if exists is None:
            session.add(ServiceRecord(event_id=event.id, resident_id=resident_id, station_id=event.station_id,
                                      created_at=clock.now()))  # fmt: skip
    else:
        await session.execute(
            delete(ServiceRecord).where(
                ServiceRecord.event_id == event.id, ServiceRecord.resident_id == resident_id
            )
        )
    await session.flush()
    await announce_event(session, clock, event, DomainEventType.residents_served)


async def set_headcount(session: AsyncSession, clock: Clock, event: Event, headcount: int) -> None:
    row = await session.get(ServiceHeadcount, event.id)
    if row is None:
        session.add(ServiceHeadcount(event_id=event.id, station_id=event.station_id, headcount=headcount,
                                     updated_at=clock.now()))  # fmt: skip
    else:
        row.headcount = headcount
    await session.flush()
    await announce_event(session, clock, event, DomainEventType.residents_served)


async def cancel(session: AsyncSession, clock: Clock, event: Event) -> None:
    row = await session.get_one(Event, event.id)
    row.status = EventStatus.cancelled
    await session.flush()
    await announce_event(session, clock, row, DomainEventType.event_cancelled)


async def move(session: AsyncSession, clock: Clock, event: Event, days: int) -> None:
    row = await session.get_one(Event, event.id)
    row.starts_at += timedelta(days=days)
    row.ends_at += timedelta(days=days)
    await session.flush()
    await announce_event(session, clock, row, DomainEventType.event_rescheduled)


async def set_party_member(session: AsyncSession, clock: Clock, person: Person, value: bool) -> None:
    row = await session.get_one(Person, person.id)
    row.is_party_member = value
    await session.flush()
    await emit(session, clock, DomainEventType.person_updated, aggregate_type="person", aggregate_id=row.id,
               station_id=row.station_id, payload={"person_id": row.id, "station_id": row.station_id,
                                                   "changed": ["is_party_member"]})  # fmt: skip
