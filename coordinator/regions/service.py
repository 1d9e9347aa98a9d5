"""Regions: adding them, placing stations under a township, and what lies below a region."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict, Invalid, not_found
from coordinator.pagination import paginate
from coordinator.regions.closure import ancestors, link_to_parent
from coordinator.regions.models import LEVEL_LABELS, PARENT_LEVEL, Region, RegionAncestor, RegionLevel
from coordinator.regions.schemas import RegionCreate
from coordinator.stations.models import Station
from coordinator.stats.station_moves import move_station


def below(region_id: int) -> ColumnElement[bool]:
    """A WHERE clause on ``RegionAncestor.region_id`` keeping ``region_id`` and every region under it."""
    return RegionAncestor.region_id.in_(
        select(RegionAncestor.region_id).where(RegionAncestor.ancestor_id == region_id)
    )


async def stations_below(session: AsyncSession, region_id: int) -> frozenset[int]:
    found = await session.scalars(
        select(Station.id)
        .join(RegionAncestor, RegionAncestor.region_id == Station.region_id)
        .where(RegionAncestor.ancestor_id == region_id)
    )
    return frozenset(found)


def may_see(principal: Principal, chain: Collection[int]) -> bool:
    """Admins see every region; region staff their own region and those below it (``chain`` is
    the region with its ancestors)."""
    return principal.is_admin or (principal.region_id is not None and principal.region_id in chain)


async def get_region(*, session: AsyncSession, principal: Principal, region_id: int) -> Region:
    """A region the principal may see; any other id answers 404, as if it did not exist."""
    region = await session.get(Region, region_id)
    if region is None or not may_see(principal, await ancestors(session, region_id)):
        raise not_found("行政区域", "region", region_id)
    return region


async def create_region(
    *, session: AsyncSession, clock: Clock, principal: Principal, data: RegionCreate
) -> Region:
    principal.require(Role.admin)
    parent = None
    if data.parent_id is not None:
        parent = await session.get(Region, data.parent_id)
        if parent is None:
            raise not_found("行政区域", "region", data.parent_id)
    expected = PARENT_LEVEL[data.level]
    if (parent.level if parent is not None else None) != expected:
        label = LEVEL_LABELS[data.level]
        raise Invalid(
            f"{label}的上级应为{LEVEL_LABELS[expected]}" if expected else f"{label}没有上级区域",
            f"A {data.level.value} needs " + (f"a {expected.value} as parent" if expected else "no parent"),
            code="invalid_region_parent",
            field="parent_id",
        )
    region = Region(**data.model_dump(), created_at=clock.now())
    session.add(region)
    await flush_or_raise(
        session,
        Conflict(
            "区域编码已存在", f"Region code {data.code!r} exists", code="region_code_taken", field="code"
        ),
    )
    await link_to_parent(session, region.id, data.parent_id)
    return region


async def list_regions(
    *,
    session: AsyncSession,
    principal: Principal,
    parent_id: int | None,
    level: RegionLevel | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Region], str | None]:
    stmt = select(Region)
    if not principal.is_admin:
        if principal.region_id is None:
            return [], None
        stmt = stmt.join(RegionAncestor, RegionAncestor.region_id == Region.id).where(
            RegionAncestor.ancestor_id == principal.region_id
        )
    if parent_id is not None:
        stmt = stmt.where(Region.parent_id == parent_id)
    if level is not None:
        stmt = stmt.where(Region.level == level)
    return await paginate(session, stmt, keys=[Region.id], limit=limit, cursor=cursor)


async def place_station(
    *, session: AsyncSession, principal: Principal, station_id: int, region_id: int | None
) -> Station:
    """Put a station under a township (or under none); its activities move to the regions above
    it in the same transaction."""
    principal.require(Role.admin)
    station = await session.get(Station, station_id)
    if station is None:
        raise not_found("服务站", "station", station_id)
    if region_id is not None:
        region = await session.get(Region, region_id)
        if region is None:
            raise not_found("行政区域", "region", region_id)
        if region.level != RegionLevel.township:
            raise Invalid(
                "服务站只能设在乡镇（街道）下",
                "A station sits under a township",
                code="station_region_not_township",
                field="region_id",
            )
    before, station.region_id = station.region_id, region_id
    await session.flush()
    await move_station(session, station_id, before, region_id)
    return station
