"""A small province over the ``world``'s two stations, for region tests: one city with two
counties, each with one township; ``world.station`` sits in the first, ``world.other`` in the second."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.regions.models import Region, RegionLevel
from coordinator.regions.schemas import RegionCreate
from coordinator.regions.service import create_region, place_station
from coordinator.stations.models import Station
from tests.factories import auth_headers, create_user
from tests.world import Headers, World

ADMIN = Principal(user_id=0, role=Role.admin, station_ids=frozenset())


@dataclass
class Province:
    province: Region
    city: Region
    county: Region  # above world.station
    other_county: Region  # above world.other
    township: Region
    other_township: Region

    def regions(self) -> list[Region]:
        return [self.province, self.city, self.county, self.other_county, self.township, self.other_township]


async def make_province(world: World, prefix: str = "t") -> Province:
    async with transaction(world.sessionmaker) as session:
        return await add_province(session, world.clock, world.station, world.other, prefix)


async def add_province(
    session: AsyncSession, clock: Clock, station: Station, other: Station, prefix: str = "t"
) -> Province:
    """The province, with ``station`` under its first township and ``other`` under its second."""

    async def add(level: RegionLevel, name: str, parent: Region | None) -> Region:
        data = RegionCreate(name=name, code=f"{prefix}-{name}", level=level,
                            parent_id=parent.id if parent else None)  # fmt: skip
        return await create_region(session=session, clock=clock, principal=ADMIN, data=data)

    province = await add(RegionLevel.province, "province", None)
    city = await add(RegionLevel.city, "city", province)
    county = await add(RegionLevel.county, "county", city)
    other_county = await add(RegionLevel.county, "other-county", city)
    township = await add(RegionLevel.township, "township", county)
    other_township = await add(RegionLevel.township, "other-township", other_county)
    for placed, region in ((station, township), (other, other_township)):
        await place_station(session=session, principal=ADMIN, station_id=placed.id, region_id=region.id)
    return Province(province, city, county, other_county, township, other_township)


async def region_staff(world: World, region: Region, role: Role = Role.organizer) -> Headers:
    """The headers of a staff account of ``region`` (a county's civil-affairs staff …)."""
    async with transaction(world.sessionmaker) as session:
        user = await create_user(session, world.clock, role, region_id=region.id)
    return auth_headers(world.app, user)
