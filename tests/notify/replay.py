"""Delivering every stored domain event to the notify handlers once more, as a relay that lost
its delivery rows would: what they plan must not change."""

from __future__ import annotations

from sqlalchemy import select

from coordinator.bus.models import OutboxEvent
from coordinator.bus.registry import DeliveredEvent, HandlerContext
from coordinator.composition import build_registry
from coordinator.db import transaction
from coordinator.domain_events import DomainEventType
from coordinator.settings import Settings
from tests.world import World


async def replay_to_notify_handlers(world: World, settings: Settings) -> None:
    async with transaction(world.sessionmaker) as session:
        stored = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
        ctx = HandlerContext(session=session, clock=world.clock, settings=settings)
        for outbox in stored:
            delivered = DeliveredEvent(
                id=outbox.id,
                event_type=DomainEventType(outbox.event_type),
                aggregate_type=outbox.aggregate_type,
                aggregate_id=outbox.aggregate_id,
                station_id=outbox.station_id,
                payload=outbox.payload,
                occurred_at=outbox.occurred_at,
            )
            for subscription in build_registry().subscribers(outbox.event_type):
                if subscription.name.startswith("notify."):
                    await subscription.handler(ctx, delivered)
