"""The world most tests start from (the ``world`` fixture): two stations and their staff, with
shortcuts to add people and events and to read back what requests stored.

Each shortcut that adds rows commits them in a transaction of its own, as a request would; the
requests under test then see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import Role
from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.db import transaction
from coordinator.events.models import Event, EventRole, Signup, SignupSource, SignupStatus
from coordinator.events.signups.service import cancel_signup
from coordinator.notify.models import Notification
from coordinator.people.models import Person, Resident
from coordinator.stations.models import Organization, Station
from tests.factories import (
    auth_headers,
    create_event,
    create_organization,
    create_person,
    create_resident,
    create_station,
    create_user,
    create_volunteer_login,
    sign_up,
)

Headers = dict[str, str]


@dataclass
class World:
    app: FastAPI
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FixedClock
    station: Station
    other: Station
    organizer: Headers  # of ``station``
    other_organizer: Headers  # of ``other``
    head: Headers  # station head of ``station``
    other_head: Headers  # station head of ``other``
    admin: Headers
    volunteer: Headers  # a volunteer account of ``station`` with no person behind it

    # --- adding -------------------------------------------------------------------------------------

    async def event(self, **fields: Any) -> Event:
        """A published event a week ahead (one role "志愿者" of 5 places unless ``roles`` says),
        at ``station`` unless ``station`` says otherwise; its roles are loaded."""
        async with transaction(self.sessionmaker) as session:
            return await create_event(session, self.clock, fields.pop("station", self.station), **fields)

    async def people(self, n: int, **fields: Any) -> list[Person]:
        async with transaction(self.sessionmaker) as session:
            station = fields.pop("station", self.station)
            return [await create_person(session, self.clock, station, **fields) for _ in range(n)]

    async def person(self, **fields: Any) -> Person:
        return (await self.people(1, **fields))[0]

    async def resident(self, **fields: Any) -> Resident:
        async with transaction(self.sessionmaker) as session:
            return await create_resident(session, self.clock, fields.pop("station", self.station), **fields)

    async def organization(self, **fields: Any) -> Organization:
        async with transaction(self.sessionmaker) as session:
            station = fields.pop("station", self.station)
            return await create_organization(session, self.clock, station, **fields)

    async def volunteer_headers(self, person: Person) -> Headers:
        """The headers of ``person``'s own login (as after an SMS code)."""
        async with transaction(self.sessionmaker) as session:
            user = await create_volunteer_login(session, self.clock, person)
        return auth_headers(self.app, user)

    # --- through the services -----------------------------------------------------------------------

    async def sign_up(self, event: Event, person: Person) -> int:
        """The person's own sign-up for the event's only role; its id."""
        async with transaction(self.sessionmaker) as session:
            signup = await sign_up(
                session, self.clock, event_id=event.id, person_id=person.id, source=SignupSource.self
            )
            return signup.id

    async def cancel_signup(self, event: Event, person: Person) -> None:
        async with transaction(self.sessionmaker) as session:
            await cancel_signup(session, self.clock, event_id=event.id, person_id=person.id)

    async def deliver_events(self) -> int:
        """Run the relay until every domain event reached its handlers (reminder planning included)."""
        attempted: int = await self.app.state.relay.drain()
        return attempted

    # --- reading back -------------------------------------------------------------------------------

    async def role(self, role_id: int) -> EventRole:
        async with self.sessionmaker() as session:
            role = await session.get(EventRole, role_id)
            assert role is not None
            return role

    async def signups(self, event_id: int, *where: Any) -> list[Signup]:
        """The event's sign-ups (those matching ``where``), in the order they were made."""
        async with self.sessionmaker() as session:
            rows = await session.scalars(
                select(Signup).where(Signup.event_id == event_id, *where).order_by(Signup.id)
            )
            return list(rows.all())

    async def status_of(self, event_id: int, person_id: int) -> list[str]:
        return [s.status for s in await self.signups(event_id, Signup.person_id == person_id)]

    async def domain_events(self, event_type: str) -> list[dict[str, Any]]:
        """The payloads of the stored domain events of one type, oldest first."""
        async with self.sessionmaker() as session:
            rows = await session.scalars(
                select(OutboxEvent).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
            )
            return [row.payload for row in rows]

    async def outbox(self) -> list[str]:
        """The types of every stored domain event, oldest first."""
        async with self.sessionmaker() as session:
            return list(await session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.id)))

    async def count(self, model: Any) -> int:
        async with self.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def notifications(self, **filters: Any) -> list[Notification]:
        async with self.sessionmaker() as session:
            stmt = select(Notification).filter_by(**filters).order_by(Notification.id)
            return list(await session.scalars(stmt))


async def make_world(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> World:
    async with transaction(sessionmaker) as session:
        station = await create_station(session, clock)
        other = await create_station(session, clock)
        users = [
            await create_user(session, clock, Role.organizer, [station]),
            await create_user(session, clock, Role.organizer, [other]),
            await create_user(session, clock, Role.station_head, [station]),
            await create_user(session, clock, Role.station_head, [other]),
            await create_user(session, clock, Role.admin),
            await create_user(session, clock, Role.volunteer, [station]),
        ]
    return World(app, sessionmaker, clock, station, other, *(auth_headers(app, user) for user in users))


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def check_role_counts(world: World, role_id: int) -> None:
    """What holds whatever ran: the confirmed and invited fit in the role's count; the counts on
    the role row equal a recount; each waiting place has a distinct position; nobody holds two live
    places."""
    role = await world.role(role_id)
    rows = await _role_signups(world, role_id)
    confirmed, waiting, invited = (
        [s for s in rows if s.status == status]
        for status in (SignupStatus.confirmed, SignupStatus.waitlisted, SignupStatus.invited)
    )
    assert len(confirmed) + len(invited) <= role.count
    assert (role.confirmed_count, role.waitlisted_count) == (len(confirmed), len(waiting))
    seqs = [s.waitlist_seq for s in waiting]
    assert None not in seqs
    assert len(set(seqs)) == len(seqs)
    people = [s.person_id for s in confirmed + waiting + invited]
    assert len(set(people)) == len(people)


async def check_role_invariants(world: World, role_id: int) -> None:
    """``check_role_counts``, and where nobody was invited or passed over: confirmed ==
    min(count, live); the waitlist is in arrival order; nobody confirmed arrived after somebody
    still waiting."""
    await check_role_counts(world, role_id)
    role = await world.role(role_id)
    rows = await _role_signups(world, role_id)
    confirmed = [s for s in rows if s.status == SignupStatus.confirmed]
    waiting = sorted(
        (s for s in rows if s.status == SignupStatus.waitlisted), key=lambda s: s.waitlist_seq or 0
    )
    assert len(confirmed) == min(role.count, len(confirmed) + len(waiting))
    assert [s.id for s in waiting] == sorted(s.id for s in waiting)  # arrival order kept
    if waiting and confirmed:
        assert max(s.id for s in confirmed) < min(s.id for s in waiting)


async def _role_signups(world: World, role_id: int) -> list[Signup]:
    async with world.sessionmaker() as session:
        return list((await session.scalars(select(Signup).where(Signup.role_id == role_id))).all())
