"""What the matching tests do besides asking for proposals: sign people up, invite them, record
their attendance and whom they served; and reading the proposals and sign-ups back."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from coordinator.attendance.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    ServiceRecord,
)
from coordinator.db import transaction
from coordinator.events.models import Event, Signup, SignupStatus
from coordinator.people.models import Person, Resident
from tests.api.signup_requests import invite, sign_up
from tests.world import Headers, World


async def sign_up_confirmed(client: httpx.AsyncClient, world: World, event: Event, person: Person) -> None:
    """A confirmed sign-up through the sign-up API."""
    response = await sign_up(client, world.organizer, event.id, person.id)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "confirmed"


async def send_invitation(client: httpx.AsyncClient, world: World, event: Event, person: Person) -> None:
    response = await invite(client, world, event.id, person.id)
    assert response.status_code == 201, response.text


async def attended(world: World, event: Event, person: Person, status: AttendanceStatus) -> None:
    """An attendance row as the roster would leave it."""
    async with transaction(world.sessionmaker) as session:
        now = world.clock.now()
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


async def served(world: World, event: Event, resident: Resident) -> None:
    async with transaction(world.sessionmaker) as session:
        session.add(
            ServiceRecord(
                event_id=event.id,
                resident_id=resident.id,
                station_id=event.station_id,
                created_at=world.clock.now(),
            )
        )


async def match(
    client: httpx.AsyncClient, world: World, event: Event, headers: Headers | None = None
) -> httpx.Response:
    return await client.post(f"/api/v1/events/{event.id}/match", headers=headers or world.organizer)


async def proposed(client: httpx.AsyncClient, world: World, event: Event) -> dict[int, list[dict[str, Any]]]:
    """role id → the proposals for it (answer asserted 200)."""
    response = await match(client, world, event)
    assert response.status_code == 200, response.text
    (found,) = response.json()["events"]
    return {role["role_id"]: role["proposals"] for role in found["roles"]}


async def signup_rows(world: World, *statuses: SignupStatus) -> list[tuple[int, int, str, str]]:
    """(event, person, status, source) of the sign-ups with these statuses (all when none given)."""
    async with world.sessionmaker() as session:
        stmt = select(Signup.event_id, Signup.person_id, Signup.status, Signup.source).order_by(Signup.id)
        if statuses:
            stmt = stmt.where(Signup.status.in_(statuses))
        return [(e, p, str(s), str(src)) for e, p, s, src in await session.execute(stmt)]


def person_ids(proposals: list[dict[str, Any]]) -> set[int]:
    return {p["person_id"] for p in proposals}


def codes(proposal: dict[str, Any]) -> set[str]:
    return {r["code"] for r in proposal["reasons"]}
