"""The due list for a caller: which stations they see, filters, and pages of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.stations.models import Station
from coordinator.stations.service import get_station
from coordinator.visits.due import DueFilters, DueResident, due_window


@dataclass(frozen=True)
class DuePage:
    items: list[DueResident]
    total: int
    next_cursor: str | None


async def visible_stations(
    session: AsyncSession, principal: Principal, station_id: int | None
) -> list[Station]:
    """The one station asked for, or every station the caller sees (a county for its bureau)."""
    principal.require_staff()
    if station_id is not None:
        return [await get_station(session=session, principal=principal, station_id=station_id)]
    return list(await session.scalars(select(Station).where(principal.station_filter(Station.id))))


def _position(cursor: str) -> tuple[date, int]:
    day, _, rid = cursor.partition("_")
    try:
        if not rid.isdigit() or len(day) != 10:
            raise ValueError(cursor)
        return date.fromisoformat(day), int(rid)
    except ValueError:
        raise Invalid(
            "翻页标记无效", "The cursor is invalid", code="invalid_cursor", field="cursor"
        ) from None


async def due_page(
    *,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    station_id: int | None,
    filters: DueFilters,
    limit: int,
    cursor: str | None,
) -> DuePage:
    stations = await visible_stations(session, principal, station_id)
    after = _position(cursor) if cursor is not None else None
    residents, total = await due_window(
        session, stations, now=clock.now(), filters=filters, after=after, limit=limit
    )
    page = residents[:limit]
    more = len(residents) > limit
    next_cursor = f"{page[-1].due_on.isoformat()}_{page[-1].resident_id}" if more and page else None
    return DuePage(page, total, next_cursor)
