"""One fixed history in the shared world, with figures worked out by hand in the tests.

Station A: e0 (15 Oct, Party drive, organization), e1 (5 Nov, home visit), e2 (1 Dec local time,
Party drive, organization), e3 (1 Jan, heritage; cancelled). The other station: e4 (20 Nov, home
visit). People p0 and p2 are Party members (第1党支部), p1 a social worker, p3 neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import AttendanceStatus
from coordinator.clock import FixedClock
from coordinator.db import transaction
from tests.stats import history as h
from tests.world import Headers, World

present, late, absent = AttendanceStatus.present, AttendanceStatus.late, AttendanceStatus.absent


@dataclass
class Scenario:
    history: h.History  # at the world's station (A) and the other
    volunteer: Headers  # p0's own login


async def make_scenario(world: World) -> Scenario:
    clock = world.clock
    async with transaction(world.sessionmaker) as session:
        history = await h.make_history(session, clock, world.station, world.other)
        e = history.events
        await _attend(session, clock, history)
        await h.serve(session, clock, e[1], history.resident_ids[0], add=True)
        await h.serve(session, clock, e[1], history.resident_ids[1], add=True)
        await h.set_headcount(session, clock, e[1], 5)
        await h.cancel(session, clock, e[3])
    volunteer = await world.volunteer_headers(history.people[0])
    await world.deliver_events()
    return Scenario(history, volunteer)


async def _attend(session: AsyncSession, clock: FixedClock, history: h.History) -> None:
    e, p = history.events, history.people
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
        await h.write_attendance(session, clock, event, person.id, status=status, minutes=minutes,
                                 approved=approved)  # fmt: skip
