"""Small async factories: ``await create_station(session, clock)`` and friends."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User, UserStation
from coordinator.auth.service import issue_access_token
from coordinator.clock import Clock
from coordinator.security import hash_password
from coordinator.stations.models import Organization, Station

_seq = itertools.count(1)
# Hashing is deliberately slow; factories share one hash so tests stay quick.
PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)


async def create_station(session: AsyncSession, clock: Clock, **fields: Any) -> Station:
    n = next(_seq)
    station = Station(
        **{
            "name": f"测试社工站{n}",
            "code": f"st-{n}",
            "timezone": "Asia/Shanghai",
            "created_at": clock.now(),
            **fields,
        }
    )
    session.add(station)
    await session.flush()
    return station


async def create_organization(
    session: AsyncSession, clock: Clock, station: Station, **fields: Any
) -> Organization:
    organization = Organization(
        **{"station_id": station.id, "name": f"儿童议事会{next(_seq)}", "created_at": clock.now(), **fields}
    )
    session.add(organization)
    await session.flush()
    return organization


async def create_user(
    session: AsyncSession, clock: Clock, role: Role, stations: list[Station] | None = None, **fields: Any
) -> User:
    user = User(
        **{
            "username": f"user{next(_seq)}",
            "password_hash": _PASSWORD_HASH,
            "role": role,
            "is_active": True,
            "created_at": clock.now(),
            **fields,
        }
    )
    session.add(user)
    await session.flush()
    session.add_all(UserStation(user_id=user.id, station_id=s.id) for s in stations or [])
    await session.flush()
    return user


def auth_headers(app: FastAPI, user: User) -> dict[str, str]:
    token = issue_access_token(settings=app.state.settings, clock=app.state.clock, user=user)
    return {"Authorization": f"Bearer {token}"}
