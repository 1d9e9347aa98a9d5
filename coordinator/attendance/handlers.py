"""Bus handlers of attendance (subscribed in ``coordinator.composition.build_registry``)."""

from __future__ import annotations

from coordinator.attendance.completion import mark_no_shows
from coordinator.bus.registry import DeliveredEvent, HandlerContext
from coordinator.events.models import Event, EventStatus


async def mark_no_shows_of_completed_event(ctx: HandlerContext, event: DeliveredEvent) -> None:
    """Whatever completed the event (the tick here, or another path), its confirmed people with no
    attendance become no-shows. Idempotent: rows are claimed ON CONFLICT DO NOTHING."""
    row = await ctx.session.get(Event, event.aggregate_id)
    if row is None or row.status != EventStatus.completed:
        return
    await mark_no_shows(ctx.session, ctx.clock, row)
