"""Relays running side by side, and the kick that delivers right after a commit."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.app import create_app
from coordinator.auth.models import Role
from coordinator.bus.models import OutboxEvent
from coordinator.bus.outbox import RELAY_KICK_KEY
from coordinator.bus.registry import DeliveredEvent, HandlerContext, Registry
from coordinator.bus.relay import Relay
from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker, is_postgres
from coordinator.domain_events import DomainEventType
from coordinator.settings import Settings
from tests.bus.conftest import deliveries, emit_events
from tests.factories import auth_headers, create_station, create_user

HANDLERS = ("notify.plan", "stats.rollup")


def slow_recording_registry(calls: list[tuple[str, int, int]]) -> Registry:
    """Handlers that yield to the loop mid-way, so concurrent relays really interleave."""
    registry = Registry()
    for name in HANDLERS:

        @registry.subscribe(DomainEventType.event_published, DomainEventType.event_rescheduled, name=name)
        async def handle(ctx: HandlerContext, event: DeliveredEvent, name: str = name) -> None:
            await asyncio.sleep(0.001)
            calls.append((name, event.aggregate_id, event.id))

    return registry


async def test_two_relays_deliver_each_event_to_each_handler_exactly_once_in_order(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings
) -> None:
    async with sessionmaker() as session:
        if not is_postgres(session):
            pytest.skip("several relays at once is a PostgreSQL deployment (SQLite is single-process)")
    calls: list[tuple[str, int, int]] = []
    registry = slow_recording_registry(calls)
    small_batches = settings.model_copy(update={"relay_batch_size": 7})
    # Two engines: as two processes would, each relay has its own connections.
    engines = [create_engine(settings.database_url) for _ in range(2)]
    relays = [
        Relay(
            sessionmaker=create_sessionmaker(engine), clock=clock, settings=small_batches, registry=registry
        )
        for engine in engines
    ]
    events = [
        (DomainEventType.event_published if n % 3 == 0 else DomainEventType.event_rescheduled, n % 8)
        for n in range(60)
    ]
    ids = await emit_events(sessionmaker, clock, *events)

    try:
        await asyncio.gather(*(relay.drain() for relay in relays))
    finally:
        for engine in engines:
            await engine.dispose()

    delivered = Counter((name, event_id) for name, _, event_id in calls)
    assert delivered == Counter({(name, event_id): 1 for name in HANDLERS for event_id in ids})
    for name in HANDLERS:
        for aggregate in range(8):
            seen = [event_id for n, a, event_id in calls if n == name and a == aggregate]
            assert seen == sorted(seen), f"{name} got aggregate {aggregate} out of order"
    assert {row.status for row in (await deliveries(sessionmaker)).values()} == {"done"}


class CountingRelay(Relay):
    runs = 0

    async def run_once(self) -> int:
        self.runs += 1
        return await super().run_once()


async def test_commit_with_events_kicks_one_coalesced_relay_run(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings
) -> None:
    delivered = asyncio.Event()
    registry = Registry()

    @registry.subscribe(DomainEventType.event_published, name="probe")
    async def probe(ctx: HandlerContext, event: DeliveredEvent) -> None:
        delivered.set()

    engine = create_engine(settings.database_url)
    relay: CountingRelay  # wired as ``coordinator.composition`` wires a process: its sessions kick it
    kicked_sessionmaker = create_sessionmaker(engine, info={RELAY_KICK_KEY: lambda: relay.kick()})
    relay = CountingRelay(sessionmaker=kicked_sessionmaker, clock=clock, settings=settings, registry=registry)
    relay.start()
    try:
        # No explicit run: the commit kicks the relay, once per emitted event; the kicks fold into one run.
        await emit_events(
            kicked_sessionmaker, clock, *[(DomainEventType.event_published, n) for n in range(3)]
        )
        await asyncio.wait_for(delivered.wait(), timeout=10)
        await relay.stop()
    finally:
        await engine.dispose()

    assert relay.runs == 1
    assert [row.status for row in (await deliveries(sessionmaker)).values()] == ["done"] * 3


async def test_kicks_are_ignored_until_started(relay: Relay) -> None:
    relay.kick()
    assert relay._kick_task is None


async def test_request_that_emits_an_event_is_relayed_after_its_commit_without_a_tick(
    settings: Settings, clock: FixedClock
) -> None:
    app = create_app(settings, clock=clock)  # scheduler off: only the kick can deliver
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        user = await create_user(session, clock, Role.admin)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(
                "/api/v1/people",
                json={"station_id": station.id, "name": "吴晓梅", "phone": "+8613812340001"},
                headers=auth_headers(app, user),
            )
            assert response.status_code == 201

            async def fanned_out() -> bool:
                async with sessionmaker() as session:
                    return await session.scalar(select(OutboxEvent.fanned_out)) is True

            async with asyncio.timeout(10):
                while not await fanned_out():  # noqa: ASYNC110  (the state is in the database)
                    await asyncio.sleep(0.01)
