"""Station coverage of a region: which townships below it have a station, and how many social
workers the stations there have, by qualification."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.people.models import Person, Qualification
from coordinator.regions.models import Region, RegionAncestor, RegionLevel
from coordinator.regions.service import get_region
from coordinator.stations.models import Station


@dataclass(frozen=True)
class Township:
    id: int
    name: str
    code: str
    stations: int


@dataclass(frozen=True)
class Coverage:
    region: Region
    townships: list[Township]
    social_workers: int  # active people marked as social workers
    by_qualification: dict[Qualification, int]  # active people holding each qualification

    @property
    def townships_with_station(self) -> int:
        return sum(t.stations > 0 for t in self.townships)

    @property
    def stations(self) -> int:
        return sum(t.stations for t in self.townships)


async def coverage(session: AsyncSession, principal: Principal, region_id: int) -> Coverage:
    region = await get_region(session=session, principal=principal, region_id=region_id)
    townships = await session.execute(
        select(Region.id, Region.name, Region.code, func.count(Station.id))
        .join(RegionAncestor, RegionAncestor.region_id == Region.id)
        .outerjoin(Station, Station.region_id == Region.id)
        .where(RegionAncestor.ancestor_id == region_id, Region.level == RegionLevel.township)
        .group_by(Region.id, Region.name, Region.code)
        .order_by(Region.code)
    )
    people = (
        select(Person.qualification, Person.is_social_worker, func.count())
        .join(Station, Station.id == Person.station_id)
        .join(RegionAncestor, RegionAncestor.region_id == Station.region_id)
        .where(RegionAncestor.ancestor_id == region_id, Person.is_active.is_(True))
        .group_by(Person.qualification, Person.is_social_worker)
    )
    by_qualification = dict.fromkeys(Qualification, 0)
    social_workers = 0
    for qualification, is_social_worker, n in await session.execute(people):
        if qualification is not None:
            by_qualification[Qualification(qualification)] += n
        social_workers += n if is_social_worker else 0
    return Coverage(
        region=region,
        townships=[Township(*row) for row in townships],
        social_workers=social_workers,
        by_qualification=by_qualification,
    )
