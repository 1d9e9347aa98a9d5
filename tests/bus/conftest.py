"""A relay over a registry of recording handlers, so bus tests never depend on real handlers."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.bus.models import OutboxDelivery
from coordinator.bus.outbox import emit
from coordinator.bus.registry import DeliveredEvent, HandlerContext, Registry
from coordinator.bus.relay import Relay
from coordinator.clock import Clock, FixedClock
from coordinator.db import transaction
from coordinator.domain_events import DomainEventType
from coordinator.observability.metrics import Metrics
from coordinator.settings import Settings


@dataclass
class Recorder:
    """Records (handler, event id) calls; ``fail`` makes a handler raise for the given event ids."""

    calls: list[tuple[str, int]] = field(default_factory=list)
    fail: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def of(self, handler: str) -> list[int]:
        return [event_id for name, event_id in self.calls if name == handler]


def recording_handler(
    registry: Registry, recorder: Recorder, name: str, *event_types: DomainEventType
) -> None:
    @registry.subscribe(*event_types, name=name)
    async def handle(ctx: HandlerContext, event: DeliveredEvent) -> None:
        recorder.calls.append((name, event.id))
        if event.id in recorder.fail[name]:
            raise RuntimeError(f"{name} cannot handle event {event.id}; call 13812341234")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def bus_registry() -> Registry:
    return Registry()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def relay(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
    bus_registry: Registry,
    metrics: Metrics,
) -> Relay:
    return Relay(
        sessionmaker=sessionmaker,
        clock=clock,
        settings=settings,
        registry=bus_registry,
        metrics=metrics,
        rng=random.Random(7),
    )


async def emit_events(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, *events: tuple[DomainEventType, int]
) -> list[int]:
    """Store ``(event_type, aggregate_id)`` events of aggregate type ``event`` in one transaction."""
    async with transaction(sessionmaker) as session:
        stored = [
            await emit(
                session,
                clock,
                event_type,
                aggregate_type="event",
                aggregate_id=aggregate_id,
                station_id=1,
                payload={"event_id": aggregate_id},
            )
            for event_type, aggregate_id in events
        ]
        return [event.id for event in stored]


async def deliveries(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[tuple[int, str], OutboxDelivery]:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(OutboxDelivery))).all()
        return {(row.event_id, row.handler): row for row in rows}
