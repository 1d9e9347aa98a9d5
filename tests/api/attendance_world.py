"""The stations, people, users and a running event the attendance tests share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance
from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.stations.models import Station
from tests.factories import (
    auth_headers,
    create_event,
    create_person,
    create_signup,
    create_station,
    create_user,
    create_volunteer_login,
)

Headers = dict[str, str]
# The event starts half an hour after the tests' clock and lasts two hours: check-in is open.
STARTS_IN = timedelta(minutes=30)
DURATION = timedelta(hours=2)


@dataclass
class AttendanceWorld:
    station: Station
    other: Station
    event: Event  # published, check-in open; `alice` and `bob` confirmed, `carol` not signed up
    alice: Person
    bob: Person
    carol: Person
    organizer: Headers
    other_organizer: Headers
    admin: Headers
    alice_login: Headers
    bob_login: Headers
    carol_login: Headers


async def make_world(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> AttendanceWorld:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        other = await create_station(session, clock)
        event = await create_event(session, clock, station, starts_in=STARTS_IN, duration=DURATION)
        alice = await create_person(session, clock, station, name="杨秀英")
        bob = await create_person(session, clock, station, name="吴金花")
        carol = await create_person(session, clock, station, name="龙春梅")
        for person in (alice, bob):
            await create_signup(session, clock, event, person)
        logins = [await create_volunteer_login(session, clock, p) for p in (alice, bob, carol)]
        organizer = await create_user(session, clock, Role.organizer, [station])
        other_organizer = await create_user(session, clock, Role.organizer, [other])
        admin = await create_user(session, clock, Role.admin)
    return AttendanceWorld(
        station=station,
        other=other,
        event=event,
        alice=alice,
        bob=bob,
        carol=carol,
        organizer=auth_headers(app, organizer),
        other_organizer=auth_headers(app, other_organizer),
        admin=auth_headers(app, admin),
        alice_login=auth_headers(app, logins[0]),
        bob_login=auth_headers(app, logins[1]),
        carol_login=auth_headers(app, logins[2]),
    )


async def attendance_of(
    sessionmaker: async_sessionmaker[AsyncSession], event: Event, person: Person
) -> Attendance | None:
    async with sessionmaker() as session:
        row: Attendance | None = await session.scalar(
            select(Attendance).where(Attendance.event_id == event.id, Attendance.person_id == person.id)
        )
        return row
