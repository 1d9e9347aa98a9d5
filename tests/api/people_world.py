"""The stations and accounts the people, residents, vocabulary and import tests share."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.stations.models import Station
from tests.factories import auth_headers, create_station, create_user

Headers = dict[str, str]


@dataclass
class PeopleWorld:
    station: Station
    other: Station
    organizer: Headers  # of ``station``
    head: Headers  # station head of ``station``
    other_head: Headers  # station head of ``other``
    admin: Headers
    volunteer: Headers  # a volunteer account of ``station`` with no person behind it


async def make_world(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> PeopleWorld:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        other = await create_station(session, clock)
        users = [
            await create_user(session, clock, Role.organizer, [station]),
            await create_user(session, clock, Role.station_head, [station]),
            await create_user(session, clock, Role.station_head, [other]),
            await create_user(session, clock, Role.admin),
            await create_user(session, clock, Role.volunteer, [station]),
        ]
    return PeopleWorld(station, other, *(auth_headers(app, user) for user in users))
