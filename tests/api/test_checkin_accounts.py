"""Who may check in with an event's code: a disabled account, a missing or wrong login and a
deleted event are refused, and nothing is stored."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance
from coordinator.auth.models import User
from tests.api.attendance_world import Running
from tests.stored import count_rows
from tests.world import World


async def _code(client: httpx.AsyncClient, world: World, running: Running) -> str:
    response = await client.get(f"/api/v1/events/{running.event.id}/checkin-code", headers=world.organizer)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_a_disabled_account_cannot_check_in_even_with_a_valid_login(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world, running)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.person_id == running.alice.id).values(is_active=False))
    response = await client.post("/api/v1/checkins", json={"token": token}, headers=running.alice_login)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "account_disabled")
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_checkin_without_or_with_a_bad_login_is_401_and_stores_nothing(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world, running)
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
    world: World,
    running: Running,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token = await _code(client, world, running)
    async with sessionmaker() as session, session.begin():
        event_row = await session.get(type(running.event), running.event.id)
        await session.delete(event_row)
    response = await client.post("/api/v1/checkins", json={"token": token}, headers=running.alice_login)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "event_not_found")
