from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.stations.models import Station
from tests.factories import PASSWORD, auth_headers, create_station, create_user


async def test_admin_creates_and_lists_stations(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessionmaker() as session, session.begin():
        admin = await create_user(session, clock, Role.admin)
    headers = auth_headers(app, admin)

    created = await client.post(
        "/api/v1/stations", json={"name": "营盘坡社区社工站", "code": "kl-ypp"}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "Asia/Shanghai"

    listed = await client.get("/api/v1/stations", headers=headers)
    assert [s["code"] for s in listed.json()["items"]] == ["kl-ypp"]


async def test_duplicate_station_code_is_409_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessionmaker() as session, session.begin():
        admin = await create_user(session, clock, Role.admin)
        await create_station(session, clock, code="dup")
    response = await client.post(
        "/api/v1/stations", json={"name": "x", "code": "dup"}, headers=auth_headers(app, admin)
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "station_code_taken"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Station)) == 1


async def test_unknown_timezone_is_422_with_field(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessionmaker() as session, session.begin():
        admin = await create_user(session, clock, Role.admin)
    response = await client.post(
        "/api/v1/stations",
        json={"name": "x", "code": "x", "timezone": "Mars/Base"},
        headers=auth_headers(app, admin),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == "timezone"


async def test_organizer_sees_only_own_station(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessionmaker() as session, session.begin():
        mine = await create_station(session, clock)
        other = await create_station(session, clock)
        organizer = await create_user(session, clock, Role.organizer, [mine])
    headers = auth_headers(app, organizer)

    listed = await client.get("/api/v1/stations", headers=headers)
    assert [s["id"] for s in listed.json()["items"]] == [mine.id]
    assert (await client.get(f"/api/v1/stations/{other.id}", headers=headers)).status_code == 404
    hidden = await client.post(
        f"/api/v1/stations/{other.id}/organizations", json={"name": "芦笙队"}, headers=headers
    )
    assert hidden.status_code == 404
    own = await client.post(
        f"/api/v1/stations/{mine.id}/organizations", json={"name": "芦笙队"}, headers=headers
    )
    assert own.status_code == 201
    assert (
        await client.post("/api/v1/stations", json={"name": "n", "code": "n"}, headers=headers)
    ).status_code == 403


async def test_password_login_and_pagination(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessionmaker() as session, session.begin():
        admin = await create_user(session, clock, Role.admin, username="root")
        for _ in range(5):
            await create_station(session, clock)
    assert admin.username == "root"
    bad = await client.post("/api/v1/auth/token", data={"username": "root", "password": "nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "bad_credentials"
    token = (await client.post("/api/v1/auth/token", data={"username": "root", "password": PASSWORD})).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/stations", params=params, headers=headers)).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == 5
    assert (await client.get("/api/v1/stations")).status_code == 401
