"""Routes of series: ``POST/GET /series``, ``GET/PATCH/DELETE /series/{id}``."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.clock import Clock, local_or_none
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.events.models import EventSeries
from coordinator.events.schemas import RoleIn
from coordinator.events.series import service
from coordinator.events.series.schemas import OccurrenceOut, SeriesCreate, SeriesOut, SeriesUpdate
from coordinator.fields import Id
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.people.shaping import station_zones

router = APIRouter(tags=["series"], responses=ERROR_RESPONSES)


def series_out(series: EventSeries, zone: ZoneInfo, upcoming: list[OccurrenceOut] | None = None) -> SeriesOut:
    return SeriesOut(
        id=series.id,
        station_id=series.station_id,
        organization_id=series.organization_id,
        theme=series.theme,
        title=series.title,
        description=series.description,
        location=series.location,
        rrule=series.rrule,
        festival=series.festival,
        starts_on=series.starts_on,
        until=series.until,
        start_time=series.start_time,
        duration_minutes=series.duration_minutes,
        roles=[RoleIn.model_validate(role) for role in series.roles],
        reminder_offsets=series.reminder_offsets,
        target_categories=series.target_categories,
        publish=series.publish,
        is_active=series.is_active,
        materialized_until=local_or_none(series.materialized_until, zone),
        created_at=series.created_at.astimezone(zone),
        updated_at=series.updated_at.astimezone(zone),
        upcoming=upcoming or [],
    )


async def _answer(session: AsyncSession, clock: Clock, series: EventSeries) -> SeriesOut:
    zone = (await station_zones(session, [series.station_id]))[series.station_id]
    events = await service.upcoming_occurrences(session, series, clock)
    upcoming = [
        OccurrenceOut(
            event_id=e.id,
            occurrence_key=e.occurrence_key or "",
            starts_at=e.starts_at.astimezone(zone),
            status=e.status,
            detached=e.detached,
        )
        for e in events
    ]
    return series_out(series, zone, upcoming)


@router.post(
    "/series",
    status_code=status.HTTP_201_CREATED,
    response_model=SeriesOut,
    summary="Create a recurring activity (RRULE or festival) and its first occurrences",
)
async def create_series(
    data: SeriesCreate, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep
) -> SeriesOut:
    """Occurrences up to the horizon (``COORDINATOR_SERIES_HORIZON_DAYS``, 90 by default) are
    created at once; the scheduler keeps adding them as time passes."""
    series = await service.create_series(session, clock, settings, principal=principal, data=data)
    return await _answer(session, clock, series)


@router.get("/series", response_model=Page[SeriesOut], summary="Series of the stations you can see")
async def list_series(
    session: SessionDep,
    principal: PrincipalDep,
    station_id: Annotated[Id | None, Query(description="Only this station")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or stopped (false) series")] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[SeriesOut]:
    rows, next_cursor = await service.list_series(
        session, principal, station_id=station_id, active=active, limit=limit, cursor=cursor
    )
    zones = await station_zones(session, (s.station_id for s in rows))
    return Page(items=[series_out(s, zones[s.station_id]) for s in rows], next_cursor=next_cursor)


@router.get(
    "/series/{series_id}", response_model=SeriesOut, summary="One series and its upcoming occurrences"
)
async def get_series(
    series_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> SeriesOut:
    series = await service.get_series(session, principal, series_id)
    return await _answer(session, clock, series)


@router.patch(
    "/series/{series_id}", response_model=SeriesOut, summary="Change a series and its future occurrences"
)
async def update_series(
    series_id: Id,
    data: SeriesUpdate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> SeriesOut:
    """Future occurrences not edited on their own take the change: new time, title, place …;
    dates the new rule no longer gives are deleted (drafts) or cancelled (published, people are
    told). Past and detached occurrences stay as they are."""
    series = await service.update_series(
        session, clock, settings, principal=principal, series_id=series_id, data=data
    )
    return await _answer(session, clock, series)


@router.delete(
    "/series/{series_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop a series; its future occurrences are cancelled",
)
async def stop_series(
    series_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    await service.stop_series(session, clock, principal=principal, series_id=series_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
