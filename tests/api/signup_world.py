"""Stations, staff and helpers shared by the sign-up, invitation and concurrency tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import Role
from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.events.models import Event, EventRole, Signup, SignupStatus
from coordinator.people.models import Person
from coordinator.stations.models import Station
from tests.factories import (
    auth_headers,
    create_event,
    create_person,
    create_station,
    create_user,
    create_volunteer_login,
)

Headers = dict[str, str]


@dataclass
class World:
    app: FastAPI
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FixedClock
    station: Station
    other: Station
    organizer: Headers
    admin: Headers

    async def event(self, **fields: Any) -> Event:
        """A published event a week ahead (one role "志愿者" of 5 places unless ``roles`` says)."""
        async with self.sessionmaker() as session, session.begin():
            return await create_event(session, self.clock, fields.pop("station", self.station), **fields)

    async def people(self, n: int, **fields: Any) -> list[Person]:
        async with self.sessionmaker() as session, session.begin():
            station = fields.pop("station", self.station)
            return [await create_person(session, self.clock, station, **fields) for _ in range(n)]

    async def person(self, **fields: Any) -> Person:
        return (await self.people(1, **fields))[0]

    async def volunteer_headers(self, person: Person) -> Headers:
        async with self.sessionmaker() as session, session.begin():
            user = await create_volunteer_login(session, self.clock, person, [self.station])
        return auth_headers(self.app, user)

    async def role(self, role_id: int) -> EventRole:
        async with self.sessionmaker() as session:
            role = await session.get(EventRole, role_id)
            assert role is not None
            return role

    async def signups(self, event_id: int, *where: Any) -> list[Signup]:
        async with self.sessionmaker() as session:
            rows = await session.scalars(
                select(Signup).where(Signup.event_id == event_id, *where).order_by(Signup.id)
            )
            return list(rows.all())

    async def status_of(self, event_id: int, person_id: int) -> list[str]:
        return [s.status for s in await self.signups(event_id, Signup.person_id == person_id)]

    async def domain_events(self, event_type: str) -> list[dict[str, Any]]:
        async with self.sessionmaker() as session:
            rows = await session.scalars(
                select(OutboxEvent).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
            )
            return [row.payload for row in rows]

    async def count(self, model: Any) -> int:
        async with self.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def make_world(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> World:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        other = await create_station(session, clock)
        organizer = await create_user(session, clock, Role.organizer, [station])
        admin = await create_user(session, clock, Role.admin)
    return World(
        app, sessionmaker, clock, station, other, auth_headers(app, organizer), auth_headers(app, admin)
    )


async def sign_up(
    client: httpx.AsyncClient, headers: Headers, event_id: int, person_id: int, role: int | str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"person_id": person_id}
    if role is not None:
        body["role"] = role
    return await client.post(f"/api/v1/events/{event_id}/signups", json=body, headers=headers)


async def cancel(
    client: httpx.AsyncClient, headers: Headers, event_id: int, person_id: int
) -> httpx.Response:
    return await client.delete(f"/api/v1/events/{event_id}/signups/{person_id}", headers=headers)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def check_role_invariants(world: World, role_id: int) -> None:
    """Confirmed == min(count, live); the count column is exact; the waitlist is contiguous and in
    arrival order; nobody confirmed arrived after somebody still waiting."""
    role = await world.role(role_id)
    async with world.sessionmaker() as session:
        rows = list((await session.scalars(select(Signup).where(Signup.role_id == role_id))).all())
    confirmed = [s for s in rows if s.status == SignupStatus.confirmed]
    waiting = sorted(
        (s for s in rows if s.status == SignupStatus.waitlisted), key=lambda s: s.waitlist_seq or 0
    )
    live = [s for s in rows if s.status in (SignupStatus.confirmed, SignupStatus.waitlisted)]
    assert len(confirmed) == min(role.count, len(live))
    assert (role.confirmed_count, role.waitlisted_count) == (len(confirmed), len(waiting))
    seqs = [s.waitlist_seq for s in waiting]
    assert len(set(seqs)) == len(seqs)
    assert [s.id for s in waiting] == sorted(s.id for s in waiting)  # arrival order kept
    if waiting and confirmed:
        assert max(s.id for s in confirmed) < min(s.id for s in waiting)
    people = [s.person_id for s in live]
    assert len(set(people)) == len(people)


def starts_in(days: float = 7, hours: float = 0) -> timedelta:
    return timedelta(days=days, hours=hours)
