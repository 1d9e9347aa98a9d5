"""Events as the API shows them: times in the station's zone, places per role, holiday info."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from coordinator.clock import local_or_none
from coordinator.events.calendar.holidays import holiday_on
from coordinator.events.models import Event
from coordinator.events.schemas import EventOut, RoleOut


def event_out(event: Event, zone: ZoneInfo) -> EventOut:
    starts_at = event.starts_at.astimezone(zone)

    return EventOut(
        id=event.id,
        station_id=event.station_id,
        organization_id=event.organization_id,
        series_id=event.series_id,
        detached=event.detached,
        theme=event.theme,
        title=event.title,
        description=event.description,
        location=event.location,
        starts_at=starts_at,
        ends_at=event.ends_at.astimezone(zone),
        capacity=event.capacity,
        status=event.status,
        roles=[
            RoleOut(
                id=role.id,
                name=role.name,
                count=role.count,
                confirmed=role.confirmed_count,
                waitlisted=role.waitlisted_count,
                skills=role.skills,
                languages=role.languages,
                party_members_only=role.party_members_only,
            )
            for role in event.roles
        ],
        reminder_offsets=event.reminder_offsets,
        target_categories=event.target_categories,
        holiday=holiday_on(starts_at.date()),
        cancel_reason=event.cancel_reason,
        sequence=event.sequence,
        created_at=event.created_at.astimezone(zone),
        updated_at=event.updated_at.astimezone(zone),
        published_at=local_or_none(event.published_at, zone),
        cancelled_at=local_or_none(event.cancelled_at, zone),
        completed_at=local_or_none(event.completed_at, zone),
    )
