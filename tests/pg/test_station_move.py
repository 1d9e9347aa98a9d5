"""A station placed under another township while its attendance is being recorded and counted by
two relays at once: once they drain, every region's cells equal a rebuild (invariant 5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from itertools import cycle

from fastapi import FastAPI

from coordinator.app import create_app
from coordinator.attendance.models import AttendanceStatus
from coordinator.clock import FixedClock
from coordinator.regions.service import place_station
from coordinator.settings import Settings
from coordinator.stats.models import EventRollup
from coordinator.stats.rollups import refresh_event
from tests.conftest import START, TEST_SECRET
from tests.factories import create_station
from tests.regions import ADMIN, Province, add_province
from tests.stats import history as h
from tests.stats.test_rollup_properties import check_rebuild_agrees, check_regions

MOVES = 6


@asynccontextmanager
async def _province(url: str) -> AsyncIterator[tuple[FastAPI, FixedClock, h.History, Province]]:
    """The app over two stations' history in a small province, the relay drained."""
    clock = FixedClock(START)
    settings = Settings(database_url=url, secret_key=TEST_SECRET, scheduler_enabled=False, log_json=False)
    app = create_app(settings, clock=clock)
    try:
        async with app.state.sessionmaker() as session, session.begin():
            station, other = await create_station(session, clock), await create_station(session, clock)
            base = await h.make_history(session, clock, station, other)
            province = await add_province(session, clock, station, other)
            for person in base.people:
                await h.write_attendance(session, clock, base.events[-1], person.id,
                                         status=AttendanceStatus.present, minutes=60)  # fmt: skip
        await app.state.relay.drain()
        yield app, clock, base, province
    finally:
        await app.state.engine.dispose()


async def _moving_station(url: str) -> None:
    async with _province(url) as (app, clock, base, province):
        maker = app.state.sessionmaker
        townships = cycle([province.township, None, province.other_township])
        moved = asyncio.Event()

        async def mover() -> None:
            for _ in range(MOVES):
                township = next(townships)
                async with maker() as session, session.begin():
                    await place_station(session=session, principal=ADMIN, station_id=base.other.id,
                                        region_id=township.id if township else None)  # fmt: skip
                await asyncio.sleep(0)
            moved.set()

        async def recorder() -> None:
            statuses = cycle([AttendanceStatus.present, AttendanceStatus.late, AttendanceStatus.no_show])
            while not moved.is_set():
                for person in base.people:
                    async with maker() as session, session.begin():
                        await h.write_attendance(session, clock, base.events[-1], person.id,
                                                 status=next(statuses), minutes=90)  # fmt: skip
                first = base.people[0]  # a flag change recounts the person's events at both stations
                async with maker() as session, session.begin():
                    await h.set_party_member(session, clock, first, not first.is_party_member)

        async def counting() -> None:
            while not moved.is_set():
                await app.state.relay.drain()
                await asyncio.sleep(0)

        await asyncio.gather(mover(), recorder(), counting(), counting())
        clock.set(clock.now() + timedelta(hours=1))  # past any retry a deadlock's victim was given
        await app.state.relay.drain()
        async with maker() as session:
            await check_regions(session, province)
        await check_rebuild_agrees(maker)


def test_a_station_moves_while_its_activities_are_counted(pg_url: str) -> None:
    asyncio.run(_moving_station(pg_url))


async def _refresh_during_move(url: str) -> None:
    async with _province(url) as (app, _, base, province):
        maker = app.state.sessionmaker
        event_id = base.events[-1].id  # at ``other``
        async with maker() as moving:
            await moving.begin()
            await place_station(session=moving, principal=ADMIN, station_id=base.other.id,
                                region_id=province.township.id)  # fmt: skip
            async with maker() as counting, counting.begin():
                refresh = asyncio.create_task(refresh_event(counting, event_id))
                await asyncio.sleep(0.5)
                assert not refresh.done()  # it waits for the move, not for nothing
                await moving.commit()
                await refresh
        async with maker() as session:
            stored = await session.get_one(EventRollup, event_id)
            assert stored.region_id == province.township.id
            await check_regions(session, province)


def test_a_refresh_during_a_move_counts_under_the_new_township(pg_url: str) -> None:
    """The refresh reads the station's township only once the move commits (a shared lock on the
    station row), so it cannot put the event back under the old one."""
    asyncio.run(_refresh_during_move(pg_url))
