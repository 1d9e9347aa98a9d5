"""Which region a statistics request is about, and the region each station's row falls in when
rows are grouped by region (``group_by=region&level=county``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.errors import Invalid
from coordinator.regions.models import LEVEL_LABELS, LEVELS, Region, RegionAncestor, RegionLevel
from coordinator.regions.service import get_region, stations_below
from coordinator.stations.models import Station


async def region_stations(session: AsyncSession, principal: Principal, region_id: int) -> frozenset[int]:
    """The stations below a region the principal may see (404 for any other region)."""
    await get_region(session=session, principal=principal, region_id=region_id)
    return await stations_below(session, region_id)


async def rows_by_region(
    session: AsyncSession, *, within: int | None, stations: frozenset[int] | None, level: RegionLevel | None
) -> dict[int, int]:
    """Station → the region of ``level`` above it, for ``stations`` (None: all) of the region
    ``within``. ``level`` defaults to the level under ``within`` (provinces when there is none)."""
    top = await session.get(Region, within) if within is not None else None
    top_level = LEVELS.index(RegionLevel(top.level)) if top is not None else -1
    wanted = level or LEVELS[min(top_level + 1, len(LEVELS) - 1)]
    if LEVELS.index(wanted) < top_level:
        raise Invalid(
            f"分组层级应在所选区域之下：{LEVEL_LABELS[wanted]}",
            f"Rows by {wanted.value} cannot split a smaller region",
            code="invalid_region_level",
            field="level",
        )
    row = select(Station.id, RegionAncestor.ancestor_id).join(
        RegionAncestor, RegionAncestor.region_id == Station.region_id
    )
    row = row.join(Region, Region.id == RegionAncestor.ancestor_id).where(Region.level == wanted)
    if stations is not None:
        row = row.where(Station.id.in_(sorted(stations)))
    return {station_id: region_id for station_id, region_id in await session.execute(row)}
