"""One fixed history over the stats world, with figures worked out by hand in the tests.

Station A: e0 (15 Oct, Party drive, organization), e1 (5 Nov, home visit), e2 (1 Dec local time,
Party drive, organization), e3 (1 Jan, heritage; cancelled). The other station: e4 (20 Nov, home
visit). People p0 and p2 are Party members (第1党支部), p1 a social worker, p3 neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import AttendanceStatus
from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from tests.factories import auth_headers, create_user
from tests.stats import world as w

present, late, absent = AttendanceStatus.present, AttendanceStatus.late, AttendanceStatus.absent
Headers = dict[str, str]


@dataclass
class Scenario:
    world: w.StatsWorld
    admin: Headers
    head: Headers  # station head of A
    organizer: Headers  # organizer of A
    other_organizer: Headers  # organizer of the other station
    volunteer: Headers  # p0's own login


async def make_scenario(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> Scenario:
    async with sessionmaker() as session, session.begin():
        world = await w.make_stats_world(session, clock)
        e, p = world.events, world.people
        await _attend(session, clock, world)
        await w.serve(session, clock, e[1], world.resident_ids[0], add=True)
        await w.serve(session, clock, e[1], world.resident_ids[1], add=True)
        await w.set_headcount(session, clock, e[1], 5)
        await w.cancel(session, clock, e[3])
        users = [
            await create_user(session, clock, Role.admin),
            await create_user(session, clock, Role.station_head, [world.station]),
            await create_user(session, clock, Role.organizer, [world.station]),
            await create_user(session, clock, Role.organizer, [world.other]),
            await create_user(
                session, clock, Role.volunteer, [world.station], username=None, person_id=p[0].id
            ),
        ]
    await app.state.relay.drain()
    admin, head, organizer, other, volunteer = (auth_headers(app, u) for u in users)
    return Scenario(world, admin, head, organizer, other, volunteer)


async def _attend(session: AsyncSession, clock: FixedClock, world: w.StatsWorld) -> None:
    e, p = world.events, world.people
    rows = [
        (e[0], p[0], present, 120, True),
        (e[0], p[1], late, 90, True),
        (e[0], p[2], absent, 0, True),
        (e[0], p[3], present, 60, False),  # a self-report not yet approved: does not count
        (e[1], p[0], present, 60, True),
        (e[1], p[2], present, 30, True),
        (e[2], p[0], present, 100, True),
        (e[3], p[1], present, 30, True),  # the event is cancelled below: does not count
        (e[4], p[3], present, 45, True),
    ]
    for event, person, status, minutes, approved in rows:
        await w.write_attendance(session, clock, event, person.id, status=status, minutes=minutes,
                                 approved=approved)  # fmt: skip
