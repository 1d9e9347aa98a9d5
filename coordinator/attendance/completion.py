"""The completion tick: events whose end has passed become ``completed``; their confirmed people
with no attendance are marked ``no_show``.

Any number of processes may run it at once; each event is completed once (docs/concurrency.md,
invariant 2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import AttendanceStatus
from coordinator.attendance.recording import announce, claim, confirmed_person_ids, new_row_values
from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.domain_events import DomainEventType
from coordinator.events.lifecycle import event_payload
from coordinator.events.models import Event, EventStatus
from coordinator.settings import Settings

BATCH_SIZE = 50


async def complete_finished_events(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """Complete every finished event, a batch per transaction; answers how many were completed."""
    del settings  # part of the tick signature; nothing here is configurable
    total = 0
    while True:
        async with transaction(sessionmaker) as session:
            events = list(
                await session.scalars(
                    select(Event)
                    .where(Event.status == EventStatus.published, Event.ends_at <= clock.now())
                    .order_by(Event.ends_at, Event.id)
                    .limit(BATCH_SIZE)
                    .with_for_update(skip_locked=True)
                )
            )
            for event in events:
                await complete_event(session, clock, event)
        total += len(events)
        if len(events) < BATCH_SIZE:
            return total


async def complete_event(session: AsyncSession, clock: Clock, event: Event) -> None:
    now = clock.now()
    event.status = EventStatus.completed
    event.completed_at = event.updated_at = now
    no_shows = await mark_no_shows(session, clock, event)
    await session.flush()
    await emit(
        session,
        clock,
        DomainEventType.event_completed,
        aggregate_type="event",
        aggregate_id=event.id,
        station_id=event.station_id,
        payload={**event_payload(event), "no_shows": no_shows},
    )


async def mark_no_shows(session: AsyncSession, clock: Clock, event: Event) -> int:
    """Confirmed people of a completed event with no attendance become ``no_show``; idempotent.
    Answers how many rows it added."""
    added = 0
    for person_id in sorted(await confirmed_person_ids(session, event.id)):
        row, created = await claim(
            session,
            new_row_values(
                event,
                clock,
                person_id=person_id,
                status=AttendanceStatus.no_show,
                method=None,
                recorded_by=None,
            ),
        )
        if created:
            added += 1
            await announce(session, clock, row, before=None, changed_by=None)
    return added
