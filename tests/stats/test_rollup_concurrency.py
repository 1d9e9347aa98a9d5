"""Several relays refreshing roll-ups at once (any number of workers share the bus on PostgreSQL):
the per-event row lock serializes refreshes of one activity, cell changes are atomic increments
in one key order, so the figures still equal the recount and no delivery fails (no deadlock)."""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import AttendanceStatus
from coordinator.bus.models import OutboxDelivery
from coordinator.bus.relay import Relay
from coordinator.clock import FixedClock
from coordinator.composition import build_registry
from coordinator.stats.queries import recount
from coordinator.stats.service import Selection, participation
from tests.factories import create_person
from tests.stats import history as h
from tests.world import World


async def test_concurrent_relays_keep_rollups_equal_to_the_recount(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    async with sessionmaker() as session, session.begin():
        history = await h.make_history(session, clock, world.station, world.other)
        people = [
            await create_person(session, clock, history.station, is_party_member=i % 3 == 0)
            for i in range(12)
        ]
    # Every attendance row is its own domain event: the relays race on shared cells.
    for i, person in enumerate(people):
        for event in history.events[:4]:
            async with sessionmaker() as session, session.begin():
                status = AttendanceStatus.present if (i + event.id) % 4 else AttendanceStatus.no_show
                await h.write_attendance(session, clock, event, person.id, status=status, minutes=30 + i)
    relays = [
        Relay(sessionmaker=sessionmaker, clock=clock, settings=app.state.settings, registry=build_registry())
        for _ in range(3)
    ]
    await asyncio.gather(*(relay.drain() for relay in relays))
    async with sessionmaker() as session:
        states = set(await session.scalars(select(OutboxDelivery.status)))
        assert states == {"done"}
        for group_by in [(), ("month", "theme"), ("station", "month")]:
            selection = Selection(None, date(2026, 1, 1), date(2026, 12, 31), group_by)  # type: ignore[arg-type]
            answer = await participation(session, selection)
            expected = await recount(session, station_ids=None, first=selection.first, last=selection.last,
                                     group_by=selection.group_by)  # fmt: skip
            assert answer.source == "rollup"
            assert answer.row_dicts() == expected.row_dicts()
            assert answer.totals == expected.totals
        assert answer.totals.person_times == 36  # 12 people × 4 activities, a quarter of them no-shows
