from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.deps import ClockDep, PrincipalDep, SessionDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.events import lifecycle, roles, service
from coordinator.events.calendar.ics import MEDIA_TYPE, render_calendar
from coordinator.events.models import Event, EventStatus
from coordinator.events.role_schemas import RoleCountOut, RoleCountUpdate
from coordinator.events.schemas import (
    CancelIn,
    DayOrInstant,
    EventCreate,
    EventOut,
    EventUpdate,
    RescheduleIn,
)
from coordinator.events.shaping import event_out
from coordinator.fields import Id, Line
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.people.shaping import station_zones
from coordinator.stations.service import get_station

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)


async def _answer(session: AsyncSession, event: Event) -> EventOut:
    zones = await station_zones(session, [event.station_id])
    return event_out(event, zones[event.station_id])


async def _event_to_change(session: AsyncSession, principal: Principal, event_id: int) -> Event:
    """Staff only; the event row is locked until the request's transaction ends."""
    principal.require_staff()
    return await service.get_event_for(session, principal, event_id, for_update=True)


@router.post(
    "/events", status_code=status.HTTP_201_CREATED, response_model=EventOut, summary="Create a draft event"
)
async def create_event(
    data: EventCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> EventOut:
    """A draft from a theme: what the request leaves out comes from the theme's defaults."""
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=data.station_id)
    event = await service.create_event(session, clock, data=data, created_by=principal.user_id)
    return await _answer(session, event)


@router.get("/events", response_model=Page[EventOut], summary="Events in start order")
async def list_events(
    session: SessionDep,
    principal: PrincipalDep,
    station_id: Annotated[Id | None, Query(description="Only this station")] = None,
    theme: Annotated[Line | None, Query(max_length=40, description="Theme code")] = None,
    status_: Annotated[EventStatus | None, Query(alias="status")] = None,
    from_: Annotated[
        DayOrInstant | None,
        Query(
            alias="from",
            description="Still running at or after (a date: that day's start in the station's zone)",
        ),
    ] = None,
    to: Annotated[
        DayOrInstant | None,
        Query(description="Starting before (a date: that day's end in the station's zone)"),
    ] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[EventOut]:
    if station_id is not None:
        await get_station(session=session, principal=principal, station_id=station_id)
    filters = service.EventFilters(
        station_id=station_id, theme=theme, status=status_, starts_from=from_, starts_to=to
    )
    rows, next_cursor = await service.list_events(
        session, principal, filters=filters, limit=limit, cursor=cursor
    )
    zones = await station_zones(session, (e.station_id for e in rows))
    return Page(items=[event_out(e, zones[e.station_id]) for e in rows], next_cursor=next_cursor)


# Declared before "/events/{event_id}" so that "7.ics" is not read as an event id.
@router.get(
    "/events/{event_id}.ics",
    response_class=Response,
    summary="The event as an iCalendar file",
    responses={200: {"content": {"text/calendar": {}}, "description": "RFC 5545 calendar"}},
)
async def event_ics(event_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> Response:
    event = await service.get_event_for(session, principal, event_id)
    zones = await station_zones(session, [event.station_id])
    body = render_calendar([event], zones, now=clock.now(), name=event.title)
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )


@router.get("/events/{event_id}", response_model=EventOut, summary="One event")
async def get_event(event_id: Id, session: SessionDep, principal: PrincipalDep) -> EventOut:
    return await _answer(session, await service.get_event_for(session, principal, event_id))


@router.patch("/events/{event_id}", response_model=EventOut, summary="Change an event")
async def update_event(
    event_id: Id, data: EventUpdate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> EventOut:
    event = await _event_to_change(session, principal, event_id)
    await service.update_event(session, clock, event=event, data=data)
    return await _answer(session, event)


@router.post("/events/{event_id}/publish", response_model=EventOut, summary="Open a draft for sign-ups")
async def publish_event(
    event_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> EventOut:
    event = await _event_to_change(session, principal, event_id)
    await service.publish_event(session, clock, event=event)
    return await _answer(session, event)


@router.post("/events/{event_id}/reschedule", response_model=EventOut, summary="Move an event")
async def reschedule_event(
    event_id: Id, data: RescheduleIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> EventOut:
    event = await _event_to_change(session, principal, event_id)
    await lifecycle.reschedule_event(
        session, clock, event=event, starts_at=data.starts_at, ends_at=data.ends_at
    )
    return await _answer(session, event)


@router.post("/events/{event_id}/cancel", response_model=EventOut, summary="Cancel an event")
async def cancel_event(
    event_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep, data: CancelIn | None = None
) -> EventOut:
    event = await _event_to_change(session, principal, event_id)
    await lifecycle.cancel_event(session, clock, event=event, reason=data.reason if data else None)
    return await _answer(session, event)


@router.patch(
    "/events/{event_id}/roles/{role_id}",
    response_model=RoleCountOut,
    summary="Change a role's places: a raise promotes waiting people; a cut below confirmed needs force",
)
async def update_role_count(
    event_id: Id,
    role_id: Id,
    data: RoleCountUpdate,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> RoleCountOut:
    principal.require_staff()
    event = await service.get_event_for(session, principal, event_id)
    role = roles.role_of(event, role_id)
    change = await roles.set_role_count(session, clock, role=role, count=data.count, force=data.force)
    return RoleCountOut(
        id=change.role.id,
        event_id=change.role.event_id,
        name=change.role.name,
        count=change.role.count,
        confirmed_count=change.role.confirmed_count,
        promoted_signup_ids=[s.id for s in change.promoted],
        demoted_signup_ids=[s.id for s in change.demoted],
    )


@router.delete(
    "/events/{event_id}/roles/{role_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a role nobody holds or waits for (not the last; not once the event started)",
)
async def remove_role(
    event_id: Id, role_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    """Refused (409) while the role has confirmed, invited or waiting people: move or cancel them
    first. Cancelled, declined and expired sign-ups of the role stay, as history."""
    principal.require_staff()
    event = await service.get_event_for(session, principal, event_id, for_update=True)
    await roles.remove_role(session, clock, event=event, role_id=role_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
