"""An event under way, with people signed up for it and their logins, for the attendance tests
(the ``running`` fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance
from coordinator.db import transaction
from coordinator.events.models import Event
from coordinator.people.models import Person
from tests.factories import auth_headers, create_event, create_person, create_signup, create_volunteer_login
from tests.world import Headers, World

# The event starts half an hour after the tests' clock and lasts two hours: check-in is open.
STARTS_IN = timedelta(minutes=30)
DURATION = timedelta(hours=2)


@dataclass
class Running:
    event: Event  # published at the world's station, check-in open
    alice: Person  # confirmed
    bob: Person  # confirmed
    carol: Person  # not signed up
    alice_login: Headers
    bob_login: Headers
    carol_login: Headers


async def running_event(world: World) -> Running:
    async with transaction(world.sessionmaker) as session:
        clock, station = world.clock, world.station
        event = await create_event(session, clock, station, starts_in=STARTS_IN, duration=DURATION)
        alice = await create_person(session, clock, station, name="杨秀英")
        bob = await create_person(session, clock, station, name="吴金花")
        carol = await create_person(session, clock, station, name="龙春梅")
        for person in (alice, bob):
            await create_signup(session, clock, event, person)
        logins = [await create_volunteer_login(session, clock, p) for p in (alice, bob, carol)]
    alice_login, bob_login, carol_login = (auth_headers(world.app, login) for login in logins)
    return Running(event, alice, bob, carol, alice_login, bob_login, carol_login)


async def attendance_of(
    sessionmaker: async_sessionmaker[AsyncSession], event: Event, person: Person
) -> Attendance | None:
    async with sessionmaker() as session:
        row: Attendance | None = await session.scalar(
            select(Attendance).where(Attendance.event_id == event.id, Attendance.person_id == person.id)
        )
        return row
