"""What a statistic or a list covers: one station, or a region with every station below it, and the
days it reads (a calendar year, a month, a year to date; in the province's zone,
``COORDINATOR_DEFAULT_TIMEZONE``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.errors import Invalid, not_found
from coordinator.fields import Id
from coordinator.regions.models import Region, RegionAncestor, RegionLevel
from coordinator.regions.service import get_region, stations_below
from coordinator.stations.models import Station

RegionQuery = Annotated[Id | None, Query(description="A region: it and every station below it")]
StationQuery = Annotated[Id | None, Query(description="One station (instead of a region)")]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year; this year if left out")]


@dataclass(frozen=True)
class Scope:
    station_ids: frozenset[int]
    region_id: int | None = None  # a region scope covers this region and every region below it
    station_id: int | None = None
    name: str = ""


async def resolve_scope(
    session: AsyncSession, principal: Principal, *, region_id: int | None, station_id: int | None
) -> Scope:
    """The scope asked for, if the caller may see it (404 as if it did not exist otherwise)."""
    principal.require_staff()
    if (region_id is None) == (station_id is None):
        raise Invalid(
            "请指定一个行政区域或一个服务站",
            "Give either region_id or station_id",
            code="scope_required",
            field="region_id",
        )
    if region_id is not None:
        region = await get_region(session=session, principal=principal, region_id=region_id)
        return await region_scope(session, region)
    assert station_id is not None
    station = await session.get(Station, station_id)
    if station is None or not principal.can_access(station_id):
        raise not_found("服务站", "station", station_id)
    return Scope(frozenset({station_id}), station_id=station_id, name=station.name)


async def region_scope(session: AsyncSession, region: Region) -> Scope:
    return Scope(await stations_below(session, region.id), region_id=region.id, name=region.name)


async def parts(session: AsyncSession, scope: Scope) -> list[Scope]:
    """The scopes one level down: a township's stations, any other region's child regions."""
    if scope.region_id is None:
        return []
    region = await session.get(Region, scope.region_id)
    assert region is not None
    if region.level == RegionLevel.township:
        stations = await session.scalars(
            select(Station).where(Station.region_id == region.id).order_by(Station.code)
        )
        return [Scope(frozenset({s.id}), station_id=s.id, name=s.name) for s in stations]
    children = await session.scalars(
        select(Region).where(Region.parent_id == region.id).order_by(Region.code)
    )
    return [await region_scope(session, child) for child in children]


def regions_below(region_id: int) -> Select[int]:
    """``region_id`` and the ids of every region under it."""
    return select(RegionAncestor.region_id).where(RegionAncestor.ancestor_id == region_id)


@dataclass(frozen=True)
class Period:
    """The days [first, last] a figure reads."""

    first: date
    last: date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """The days in ``zone``, as UTC instants [start, end)."""
        tz = ZoneInfo(zone)
        return (
            datetime.combine(self.first, time(), tz).astimezone(UTC),
            datetime.combine(self.last + timedelta(days=1), time(), tz).astimezone(UTC),
        )
