"""A station with staff, and helpers to make people, residents and events for the matching tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    ServiceRecord,
)
from coordinator.auth.models import Role
from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.events.models import Event, Signup, SignupStatus
from coordinator.people.models import Person, Resident
from coordinator.stations.models import Station
from tests.factories import (
    auth_headers,
    create_event,
    create_person,
    create_resident,
    create_station,
    create_user,
    create_volunteer_login,
)

Headers = dict[str, str]


@dataclass
class MatchWorld:
    app: FastAPI
    client: httpx.AsyncClient
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FixedClock
    station: Station
    other: Station
    organizer: Headers
    head: Headers
    stranger: Headers  # an organizer of the other station

    async def event(self, **fields: Any) -> Event:
        async with self.sessionmaker() as session, session.begin():
            return await create_event(session, self.clock, fields.pop("station", self.station), **fields)

    async def person(self, **fields: Any) -> Person:
        async with self.sessionmaker() as session, session.begin():
            return await create_person(session, self.clock, fields.pop("station", self.station), **fields)

    async def resident(self, **fields: Any) -> Resident:
        async with self.sessionmaker() as session, session.begin():
            return await create_resident(session, self.clock, self.station, **fields)

    async def sign_up(self, event: Event, person: Person) -> None:
        """A confirmed sign-up through the sign-up API."""
        response = await self.client.post(
            f"/api/v1/events/{event.id}/signups", json={"person_id": person.id}, headers=self.organizer
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "confirmed"

    async def invite(self, event: Event, person: Person) -> None:
        response = await self.client.post(
            f"/api/v1/events/{event.id}/invitations", json={"person_id": person.id}, headers=self.organizer
        )
        assert response.status_code == 201, response.text

    async def attended(self, event: Event, person: Person, status: AttendanceStatus) -> None:
        """An attendance row as the roster would leave it."""
        async with self.sessionmaker() as session, session.begin():
            now = self.clock.now()
            session.add(
                Attendance(
                    event_id=event.id,
                    person_id=person.id,
                    station_id=event.station_id,
                    status=status,
                    method=AttendanceMethod.roster,
                    minutes=120 if status in ATTENDED_STATUSES else 0,
                    approved=True,
                    created_at=now,
                    updated_at=now,
                )
            )

    async def served(self, event: Event, resident: Resident) -> None:
        async with self.sessionmaker() as session, session.begin():
            session.add(
                ServiceRecord(
                    event_id=event.id,
                    resident_id=resident.id,
                    station_id=event.station_id,
                    created_at=self.clock.now(),
                )
            )

    async def volunteer(self, person: Person) -> Headers:
        async with self.sessionmaker() as session, session.begin():
            user = await create_volunteer_login(session, self.clock, person, [self.station])
        return auth_headers(self.app, user)

    async def match(self, event: Event, headers: Headers | None = None) -> httpx.Response:
        return await self.client.post(f"/api/v1/events/{event.id}/match", headers=headers or self.organizer)

    async def proposed(self, event: Event) -> dict[int, list[dict[str, Any]]]:
        """role id → the proposals for it (answer asserted 200)."""
        response = await self.match(event)
        assert response.status_code == 200, response.text
        (found,) = response.json()["events"]
        return {role["role_id"]: role["proposals"] for role in found["roles"]}

    async def signups(self, *statuses: SignupStatus) -> list[tuple[int, int, str, str]]:
        """(event, person, status, source) of the sign-ups with these statuses (all when none given)."""
        async with self.sessionmaker() as session:
            stmt = select(Signup.event_id, Signup.person_id, Signup.status, Signup.source).order_by(Signup.id)
            if statuses:
                stmt = stmt.where(Signup.status.in_(statuses))
            return [(e, p, str(s), str(src)) for e, p, s, src in await session.execute(stmt)]

    async def outbox(self) -> list[str]:
        async with self.sessionmaker() as session:
            return list(await session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.id)))

    async def count(self, model: Any) -> int:
        async with self.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def make_world(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> MatchWorld:
    """Two stations; an organizer and a head of the first, an organizer of the other."""
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        other = await create_station(session, clock)
        organizer = await create_user(session, clock, Role.organizer, [station])
        head = await create_user(session, clock, Role.station_head, [station])
        stranger = await create_user(session, clock, Role.organizer, [other])
    return MatchWorld(
        app,
        client,
        sessionmaker,
        clock,
        station,
        other,
        auth_headers(app, organizer),
        auth_headers(app, head),
        auth_headers(app, stranger),
    )


def person_ids(proposals: list[dict[str, Any]]) -> set[int]:
    return {p["person_id"] for p in proposals}


def codes(proposal: dict[str, Any]) -> set[str]:
    return {r["code"] for r in proposal["reasons"]}
