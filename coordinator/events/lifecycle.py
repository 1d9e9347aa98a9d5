"""The status lifecycle ``draft → published → cancelled | completed``: rescheduling, cancelling,
and the rule that finished (cancelled or completed) events no longer change. Publishing is
``service.publish_event``; completing finished events is the ``attendance.completion`` tick.

Each function takes an event its caller loaded with ``for_update=True`` and writes its domain
event in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.errors import Conflict, Invalid
from coordinator.events.models import Event, EventStatus
from coordinator.events.signups.places import lock_event_roles


def utc_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def event_payload(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "station_id": event.station_id,
        "starts_at": utc_iso(event.starts_at),
        "ends_at": utc_iso(event.ends_at),
    }


def ensure_changeable(event: Event) -> None:
    """Cancelled and completed events are history: 409 for any change."""
    if event.status == EventStatus.completed:
        raise Conflict(
            "活动已结束，不能再修改", "The event is completed and cannot change", code="event_completed"
        )
    if event.status == EventStatus.cancelled:
        raise Conflict(
            "活动已取消，不能再修改", "The event is cancelled and cannot change", code="event_cancelled"
        )


async def reschedule_event(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    starts_at: datetime,
    ends_at: datetime | None = None,
    from_series: bool = False,
) -> Event:
    """Move the event (keeping its length unless ``ends_at`` is given). A published event cannot
    move into the past: people have signed up for a real time."""
    ensure_changeable(event)
    new_ends_at = ends_at or starts_at + (event.ends_at - event.starts_at)
    if new_ends_at <= starts_at:
        raise Invalid(
            "结束时间必须晚于开始时间",
            "The end must be after the start",
            code="ends_before_start",
            field="ends_at",
        )
    now = clock.now()
    if event.status == EventStatus.published and starts_at <= now:
        raise Invalid(
            "已发布的活动不能改到过去的时间",
            "A published event cannot move to a time that has passed",
            code="starts_in_past",
            field="starts_at",
        )
    if (starts_at, new_ends_at) == (event.starts_at, event.ends_at):
        return event
    await lock_event_roles(session, event)  # ordered with the sign-ups in flight
    old = (event.starts_at, event.ends_at)
    event.starts_at, event.ends_at = starts_at.astimezone(UTC), new_ends_at.astimezone(UTC)
    event.sequence += 1
    event.updated_at = now
    if event.series_id is not None and not from_series:
        event.detached = True
    await session.flush()
    await emit(
        session,
        clock,
        DomainEventType.event_rescheduled,
        aggregate_type="event",
        aggregate_id=event.id,
        station_id=event.station_id,
        payload={
            **event_payload(event),
            "old_starts_at": utc_iso(old[0]),
            "old_ends_at": utc_iso(old[1]),
            "new_starts_at": utc_iso(event.starts_at),
            "new_ends_at": utc_iso(event.ends_at),
            "status": str(event.status),
        },
    )
    return event


async def cancel_event(session: AsyncSession, clock: Clock, *, event: Event, reason: str | None) -> Event:
    """Cancel a draft or published event. Sign-ups stay as they were, so handlers know whom to tell."""
    ensure_changeable(event)
    await lock_event_roles(session, event)  # ordered with the sign-ups in flight
    now = clock.now()
    was_published = event.status == EventStatus.published
    event.status = EventStatus.cancelled
    event.cancel_reason = reason
    event.cancelled_at = now
    event.updated_at = now
    event.sequence += 1
    await session.flush()
    await emit(
        session,
        clock,
        DomainEventType.event_cancelled,
        aggregate_type="event",
        aggregate_id=event.id,
        station_id=event.station_id,
        payload={**event_payload(event), "reason": reason, "was_published": was_published},
    )
    return event
