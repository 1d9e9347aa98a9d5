"""Writing domain events: called by services inside the transaction of the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.bus.models import OutboxEvent
from coordinator.clock import Clock
from coordinator.db import on_commit

RELAY_KICK_KEY = "relay_kick"


async def emit(
    session: AsyncSession,
    clock: Clock,
    event_type: str,
    *,
    aggregate_type: str,
    aggregate_id: int,
    station_id: int | None,
    payload: dict[str, Any],
) -> OutboxEvent:
    """Store a domain event; it is delivered to handlers only after this transaction commits.

    ``payload`` holds ids and ISO strings only (never ORM objects), so handlers reload what they need."""
    event = OutboxEvent(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        station_id=station_id,
        payload=payload,
        occurred_at=clock.now(),
        fanned_out=False,
    )
    session.add(event)
    await session.flush()
    kick = session.sync_session.info.get(RELAY_KICK_KEY)
    if kick is not None:
        on_commit(session, kick)
    return event
