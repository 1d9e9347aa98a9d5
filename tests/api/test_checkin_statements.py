"""The volunteers' check-in stays one read and one write: the statements it sends are counted, so a
change that reloads the user, the event or the sign-up on its own (an N+1) fails here. Also the
account checks the check-in now makes itself instead of the bearer dependency."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance
from coordinator.auth.models import User
from coordinator.clock import FixedClock
from tests.api.attendance_world import AttendanceWorld, make_world
from tests.conftest import START
from tests.stored import count_rows, statements_of, verbs


@pytest.fixture
async def world(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> AttendanceWorld:
    return await make_world(app, sessionmaker, clock)


async def _code(client: httpx.AsyncClient, world: AttendanceWorld) -> str:
    response = await client.get(f"/api/v1/events/{world.event.id}/checkin-code", headers=world.organizer)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_a_checkin_is_one_select_and_two_inserts_and_a_rescan_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, world: AttendanceWorld, clock: FixedClock
) -> None:
    token = await _code(client, world)

    async def scan() -> tuple[str, list[str]]:
        with statements_of(app) as statements:
            response = await client.post("/api/v1/checkins", json={"token": token}, headers=world.alice_login)
        assert response.status_code == 200, response.text
        assert response.json()["attendance"]["person_name"] == "杨秀英"
        return response.json()["action"], verbs(statements)

    # Account, person, event, station and sign-up in one SELECT; the row; its outbox event.
    assert await scan() == ("checked_in", ["SELECT", "INSERT attendance", "INSERT outbox_events"])
    clock.set(START + timedelta(minutes=1))
    # A double tap: the INSERT finds the row, which is locked and left as it is.
    assert await scan() == ("unchanged", ["SELECT", "INSERT attendance", "SELECT"])
    clock.set(START + timedelta(minutes=95))
    action, statements = await scan()
    assert action == "checked_out"
    assert statements[:3] == ["SELECT", "INSERT attendance", "SELECT"]
    # The change itself: the row, its audit entries (checked_out_at and minutes: one statement on
    # PostgreSQL, one per field on SQLite), the outbox event.
    assert statements[3] == "UPDATE attendance"
    assert statements[-1] == "INSERT outbox_events"
    assert set(statements[4:-1]) == {"INSERT attendance_audit"}
    assert len(statements[4:-1]) <= 2


async def test_checkins_of_many_volunteers_cost_the_same_each(
    app: FastAPI, client: httpx.AsyncClient, world: AttendanceWorld
) -> None:
    token = await _code(client, world)
    counts = []
    for login in (world.alice_login, world.bob_login):
        with statements_of(app) as statements:
            response = await client.post("/api/v1/checkins", json={"token": token}, headers=login)
        assert response.status_code == 200, response.text
        counts.append(len(statements))
    assert counts == [3, 3]


async def test_a_disabled_account_cannot_check_in_even_with_a_valid_login(
    client: httpx.AsyncClient, world: AttendanceWorld, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.person_id == world.alice.id).values(is_active=False))
    response = await client.post("/api/v1/checkins", json={"token": token}, headers=world.alice_login)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "account_disabled")
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_checkin_without_or_with_a_bad_login_is_401_and_stores_nothing(
    client: httpx.AsyncClient, world: AttendanceWorld, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world)
    missing = await client.post("/api/v1/checkins", json={"token": token})
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "not_authenticated")
    # A check-in code is signed with the same key but is not a login.
    wrong = await client.post(
        "/api/v1/checkins", json={"token": token}, headers={"Authorization": f"Bearer {token}"}
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_token")
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_checkin_of_an_event_that_no_longer_exists_is_404(
    client: httpx.AsyncClient,
    world: AttendanceWorld,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token = await _code(client, world)
    async with sessionmaker() as session, session.begin():
        event_row = await session.get(type(world.event), world.event.id)
        await session.delete(event_row)
    response = await client.post("/api/v1/checkins", json={"token": token}, headers=world.alice_login)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "event_not_found")
