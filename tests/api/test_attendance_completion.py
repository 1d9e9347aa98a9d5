"""Completing finished events: status, ``EventCompleted``, and no-shows for the confirmed who never came."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.completion import complete_finished_events
from coordinator.attendance.models import Attendance
from coordinator.bus.outbox import emit
from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.domain_events import DomainEventType
from coordinator.events.models import Event, EventStatus, SignupStatus
from coordinator.settings import Settings
from tests.api.attendance_world import Running, attendance_of
from tests.conftest import START
from tests.factories import create_event, create_person, create_signup
from tests.stored import count_rows, domain_events
from tests.world import World


async def _status(sessionmaker: async_sessionmaker[AsyncSession], event_id: int) -> str:
    async with sessionmaker() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        return event.status


async def test_finished_event_is_completed_and_confirmed_absentees_become_no_shows(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        later = await create_event(session, clock, world.station, starts_in=timedelta(days=1))
        dana = await create_person(session, clock, world.station)
        event = await session.get(Event, running.event.id, populate_existing=True)
        assert event is not None
        await session.refresh(event, ["roles"])
        await create_signup(session, clock, event, dana, status=SignupStatus.cancelled)
    code = (
        await client.get(f"/api/v1/events/{running.event.id}/checkin-code", headers=world.organizer)
    ).json()
    await client.post("/api/v1/checkins", json={"token": code["token"]}, headers=running.alice_login)

    clock.set(START + timedelta(hours=2, minutes=29))
    assert await complete_finished_events(sessionmaker=sessionmaker, clock=clock, settings=settings) == 0
    clock.set(START + timedelta(hours=2, minutes=30))  # the end
    assert await complete_finished_events(sessionmaker=sessionmaker, clock=clock, settings=settings) == 1

    assert await _status(sessionmaker, running.event.id) == EventStatus.completed
    assert await _status(sessionmaker, later.id) == EventStatus.published
    alice = await attendance_of(sessionmaker, running.event, running.alice)
    bob = await attendance_of(sessionmaker, running.event, running.bob)
    assert alice is not None
    assert bob is not None
    assert (alice.status, alice.minutes) == ("present", 120)
    assert (bob.status, bob.method, bob.minutes) == ("no_show", None, 0)
    assert await count_rows(sessionmaker, Attendance) == 2  # not the cancelled sign-up, not carol
    [completed] = await domain_events(sessionmaker, "EventCompleted")
    assert (completed.aggregate_id, completed.payload["no_shows"]) == (running.event.id, 1)
    # Run again: nothing left to do, nothing announced twice.
    assert await complete_finished_events(sessionmaker=sessionmaker, clock=clock, settings=settings) == 0
    assert len(await domain_events(sessionmaker, "EventCompleted")) == 1


@pytest.mark.usefixtures("running")
async def test_concurrent_ticks_complete_each_event_once(
    world: World,
    clock: FixedClock,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        for _ in range(3):
            await create_event(session, clock, world.station, starts_in=timedelta(minutes=5))
    clock.set(START + timedelta(hours=3))
    counts = await asyncio.gather(
        *(
            complete_finished_events(sessionmaker=sessionmaker, clock=clock, settings=settings)
            for _ in range(3)
        )
    )
    assert sum(counts) == 4
    assert len(await domain_events(sessionmaker, "EventCompleted")) == 4
    assert await count_rows(sessionmaker, Attendance, Attendance.status == "no_show") == 2


async def test_no_shows_are_marked_whoever_completed_the_event(
    app: FastAPI, running: Running, clock: FixedClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    clock.set(START + timedelta(hours=3))
    async with sessionmaker() as session, session.begin():  # completed by some other code path
        event = await session.get(Event, running.event.id)
        assert event is not None
        event.status = EventStatus.completed
        await emit(
            session,
            clock,
            DomainEventType.event_completed,
            aggregate_type="event",
            aggregate_id=event.id,
            station_id=event.station_id,
            payload={"event_id": event.id},
        )
    assert await count_rows(sessionmaker, Attendance) == 0
    await app.state.relay.drain()
    assert await count_rows(sessionmaker, Attendance, Attendance.status == "no_show") == 2
    await app.state.relay.drain()
    assert len(await domain_events(sessionmaker, "AttendanceRecorded")) == 2


def test_completion_tick_is_scheduled(runtime: Runtime) -> None:
    assert any(tick.run is complete_finished_events for tick in runtime.scheduler.ticks)
