"""The stations, users and helpers the event, theme and iCalendar tests share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.events.models import Signup, SignupSource, SignupStatus
from coordinator.people.models import Person
from coordinator.stations.models import Organization, Station
from tests.factories import (
    auth_headers,
    count_on_role,
    create_organization,
    create_person,
    create_station,
    create_user,
    create_volunteer_login,
)

Headers = dict[str, str]
# Saturday 12 December 2026, 14:00 in Kaili: two weeks after the tests' clock.
SATURDAY_2PM = "2026-12-12T14:00:00+08:00"


@dataclass
class EventWorld:
    station: Station
    other: Station
    organization: Organization
    other_organization: Organization
    person: Person
    organizer: Headers
    other_organizer: Headers
    admin: Headers
    volunteer: Headers


async def make_world(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> EventWorld:
    """Two stations with an organization each; an organizer of each, an admin, and a volunteer
    (with their person) of the first station."""
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        other = await create_station(session, clock)
        organization = await create_organization(session, clock, station)
        other_organization = await create_organization(session, clock, other)
        person = await create_person(session, clock, station, name="杨秀英")
        organizer = await create_user(session, clock, Role.organizer, [station])
        other_organizer = await create_user(session, clock, Role.organizer, [other])
        admin = await create_user(session, clock, Role.admin)
        volunteer = await create_volunteer_login(session, clock, person)
    return EventWorld(
        station=station,
        other=other,
        organization=organization,
        other_organization=other_organization,
        person=person,
        organizer=auth_headers(app, organizer),
        other_organizer=auth_headers(app, other_organizer),
        admin=auth_headers(app, admin),
        volunteer=auth_headers(app, volunteer),
    )


def event_body(world: EventWorld, **fields: Any) -> dict[str, Any]:
    return {"station_id": world.station.id, "theme": "birthday_party", "starts_at": SATURDAY_2PM, **fields}


async def add_signup(
    session: AsyncSession,
    *,
    event_id: int,
    role_id: int,
    person_id: int,
    status: SignupStatus,
    waitlist_seq: int | None = None,
    at: datetime = datetime(2026, 11, 28, tzinfo=UTC),
) -> Signup:
    """A sign-up row as given; an invited or waiting one is counted on its role, a confirmed one
    is not: tests that add those set the role's ``confirmed_count`` themselves."""
    signup = Signup(
        event_id=event_id,
        role_id=role_id,
        person_id=person_id,
        status=status,
        source=SignupSource.self,
        waitlist_seq=waitlist_seq,
        created_at=at,
        updated_at=at,
    )
    session.add(signup)
    await session.flush()
    if status is not SignupStatus.confirmed:
        await count_on_role(session, role_id, status)
    return signup
