"""Whether the roll-ups have taken in every change the bus still holds for them.

The roll-ups follow the attendance rows a moment late: the bus delivers each change after its
commit. Staff who read statistics right after saving a roster must see it, so roll-ups that are
behind for the stations asked about are not used: the answer is recounted (``stats.service``)."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.stats.rollups import EVENT_FACTS, EVENT_HANDLER, PERSON_FACTS, PERSON_HANDLER

_FACTS = sorted(t.value for t in (*EVENT_FACTS, *PERSON_FACTS))
_HANDLERS = (EVENT_HANDLER, PERSON_HANDLER)
_UNFINISHED = ("pending", "running", "dead")  # a dead delivery never reached the roll-ups either


async def rollups_behind(session: AsyncSession, station_ids: frozenset[int] | None) -> bool:
    """True while a change at these stations (None: any) is not in the roll-ups yet: its domain
    event not fanned out, or a roll-up handler's delivery of it not done."""
    facts = select(OutboxEvent.id).where(OutboxEvent.event_type.in_(_FACTS))
    if station_ids is not None:
        facts = facts.where(OutboxEvent.station_id.in_(sorted(station_ids)))
    unfanned = facts.where(OutboxEvent.fanned_out.is_(False))
    undelivered = facts.join(OutboxDelivery, OutboxDelivery.event_id == OutboxEvent.id).where(
        OutboxDelivery.handler.in_(_HANDLERS), OutboxDelivery.status.in_(_UNFINISHED)
    )
    # One statement, one snapshot: fan-out commits an event's deliveries with its fanned_out flag,
    # and a handler commits its cells with its "done", so nothing slips between the two tests.
    return bool(await session.scalar(select(or_(exists(unfanned), exists(undelivered)))))
