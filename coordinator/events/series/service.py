"""Series: recurring activities from an RRULE or a festival rule.

A series is a template (theme defaults applied at creation) plus a rule; ``events.series.materialize``
turns it into events up to the horizon. Creating a series materializes it at once, in the same
transaction. Editing one locks the series row (``SELECT … FOR UPDATE``; the materializer tick
skips locked series) and makes its future occurrences follow (see ``materialize.follow_series``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Conflict, not_found
from coordinator.events.calendar import festivals
from coordinator.events.event_fields import check_categories, check_organization, check_roles
from coordinator.events.models import Event, EventSeries
from coordinator.events.schemas import RoleIn, role_dicts, theme_roles
from coordinator.events.series import materialize
from coordinator.events.series.recurrence import check_series_rule
from coordinator.events.series.schemas import SeriesCreate, SeriesUpdate
from coordinator.events.themes import Theme, resolve_theme
from coordinator.pagination import paginate
from coordinator.people.vocabularies import load_vocabulary
from coordinator.settings import Settings
from coordinator.stations.service import get_station


def _default_title(theme: Theme, festival: str | None) -> str:
    if festival is None:
        return theme.name_zh
    return f"{festivals.get_festival(festival).name_zh}·{theme.name_zh}"


async def _checked_roles(session: AsyncSession, station_id: int, roles: list[RoleIn]) -> list[dict[str, Any]]:
    vocabulary = await load_vocabulary(session=session, station_id=station_id)
    check_roles(vocabulary, roles)
    return role_dicts(roles)


async def create_series(
    session: AsyncSession, clock: Clock, settings: Settings, *, principal: Principal, data: SeriesCreate
) -> EventSeries:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=data.station_id)
    check_series_rule(
        rrule_text=data.rrule, festival=data.festival, starts_on=data.starts_on, until=data.until
    )
    theme = await resolve_theme(session, station_id=data.station_id, code=data.theme)
    if data.organization_id is not None:
        await check_organization(session, station_id=data.station_id, organization_id=data.organization_id)
    roles = data.roles if data.roles is not None else theme_roles(theme)
    now = clock.now()
    series = EventSeries(
        station_id=data.station_id,
        organization_id=data.organization_id,
        theme=theme.code,
        title=data.title or _default_title(theme, data.festival),
        description=data.description,
        location=data.location,
        rrule=data.rrule,
        festival=data.festival,
        starts_on=data.starts_on,
        until=data.until,
        start_time=data.start_time,
        duration_minutes=data.duration_minutes or theme.duration_minutes,
        roles=await _checked_roles(session, data.station_id, roles),
        reminder_offsets=(
            data.reminder_offsets if data.reminder_offsets is not None else list(theme.reminder_offsets)
        ),
        target_categories=check_categories(
            data.target_categories if data.target_categories is not None else theme.target_categories
        ),
        publish=data.publish,
        materialized_until=None,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(series)
    await session.flush()
    zone = await materialize.station_zone(session, series.station_id)
    await materialize.materialize_series(session, clock, settings, series=series, zone=zone)
    return series


async def get_series(
    session: AsyncSession, principal: Principal, series_id: int, *, for_update: bool = False
) -> EventSeries:
    """A series of the principal's stations (staff only); anything else answers 404."""
    principal.require_staff()
    stmt = select(EventSeries).where(EventSeries.id == series_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    series = await session.scalar(stmt)
    if series is None or not principal.can_access(series.station_id):
        raise not_found("系列活动", "series", series_id)
    return series


async def list_series(
    session: AsyncSession,
    principal: Principal,
    *,
    station_id: int | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[EventSeries], str | None]:
    principal.require_staff()
    stmt = select(EventSeries).where(principal.station_filter(EventSeries.station_id))
    if station_id is not None:
        await get_station(session=session, principal=principal, station_id=station_id)
        stmt = stmt.where(EventSeries.station_id == station_id)
    if active is not None:
        stmt = stmt.where(EventSeries.is_active.is_(active))
    return await paginate(session, stmt, keys=[EventSeries.id], limit=limit, cursor=cursor)


async def update_series(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    principal: Principal,
    series_id: int,
    data: SeriesUpdate,
) -> EventSeries:
    """Apply the fields sent, then make the future occurrences follow. A stopped series is history."""
    series = await get_series(session, principal, series_id, for_update=True)
    if not series.is_active:
        raise _stopped(series_id)
    sent = data.model_dump(exclude_unset=True)
    if "rrule" in sent and sent["rrule"] is not None and "festival" not in sent:
        sent["festival"] = None
    if "festival" in sent and sent["festival"] is not None and "rrule" not in sent:
        sent["rrule"] = None
    merged = {f: sent.get(f, getattr(series, f)) for f in ("rrule", "festival", "starts_on", "until")}
    check_series_rule(
        rrule_text=merged["rrule"],
        festival=merged["festival"],
        starts_on=merged["starts_on"],
        until=merged["until"],
    )
    if sent.get("organization_id") is not None:
        await check_organization(
            session, station_id=series.station_id, organization_id=sent["organization_id"]
        )
    if "roles" in sent:
        assert data.roles is not None
        sent["roles"] = await _checked_roles(session, series.station_id, data.roles)
    if "target_categories" in sent:
        sent["target_categories"] = check_categories(sent["target_categories"])
    changed = {field for field, value in sent.items() if getattr(series, field) != value}
    if not changed:
        return series
    for field in changed:
        setattr(series, field, sent[field])
    series.updated_at = clock.now()
    await session.flush()
    await materialize.follow_series(session, clock, settings, series=series)
    return series


def _stopped(series_id: int) -> Conflict:
    return Conflict(
        "系列活动已停止，不能再修改",
        f"Series {series_id} is stopped and cannot change",
        code="series_stopped",
    )


async def stop_series(session: AsyncSession, clock: Clock, *, principal: Principal, series_id: int) -> None:
    """Deactivate the series; its future occurrences that still follow it are dropped."""
    series = await get_series(session, principal, series_id, for_update=True)
    if not series.is_active:
        return
    await materialize.stop_series(session, clock, series=series)


async def upcoming_occurrences(session: AsyncSession, series: EventSeries, clock: Clock) -> list[Event]:
    return list(
        await session.scalars(
            select(Event)
            .where(Event.series_id == series.id, Event.starts_at > clock.now())
            .order_by(Event.starts_at, Event.id)
        )
    )
