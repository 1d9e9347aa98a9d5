"""Writing domain events: called by services inside the transaction of the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.bus.models import OutboxEvent
from coordinator.clock import Clock
from coordinator.db import on_commit
from coordinator.domain_events import DomainEventType

# The session ``info`` entry holding the relay's kick (set by ``coordinator.composition``).
RELAY_KICK_KEY = "relay_kick"
_OUTBOX: Table = OutboxEvent.__table__  # type: ignore[assignment]  # mapped to a Table
_INSERT_EVENT = insert(_OUTBOX).returning(_OUTBOX.c.id)


async def emit(
    session: AsyncSession,
    clock: Clock,
    event_type: DomainEventType,
    *,
    aggregate_type: str,
    aggregate_id: int,
    station_id: int | None,
    payload: dict[str, Any],
) -> OutboxEvent:
    """Store a domain event; it is delivered to handlers only after this transaction commits.

    ``payload`` holds ids and ISO strings only (never ORM objects), so handlers reload what they need.

    The row is written with one Core INSERT (an ORM unit-of-work flush of a new object costs
    several times more, on every write request); the answer is a copy, not in the session, with its id."""
    values: dict[str, Any] = {
        "event_type": event_type.value,
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "station_id": station_id,
        "payload": payload,
        "occurred_at": clock.now(),
        "fanned_out": False,
    }
    await session.flush()  # the change the event announces is written first, as before
    event_id = (await session.execute(_INSERT_EVENT, values)).scalar_one()
    kick_relay_after_commit(session)
    return OutboxEvent(id=event_id, **values)


def kick_relay_after_commit(session: AsyncSession) -> None:
    """Have the session's relay deliver right after this transaction commits (a session built
    without one, as by a script, leaves the events to the relay's next tick)."""
    kick = session.sync_session.info.get(RELAY_KICK_KEY)
    if kick is not None:
        on_commit(session, kick)
