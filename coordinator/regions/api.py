"""Routes of regions: the tree, placing stations under a township, and coverage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from coordinator.deps import ClockDep, PrincipalDep, SessionDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.people.models import QUALIFICATION_LABELS
from coordinator.regions import service
from coordinator.regions.coverage import coverage
from coordinator.regions.models import RegionLevel
from coordinator.regions.schemas import (
    CoverageOut,
    QualificationCount,
    RegionCreate,
    RegionOut,
    StationRegionIn,
    TownshipCoverage,
)
from coordinator.stations.schemas import StationOut

router = APIRouter(tags=["regions"], responses=ERROR_RESPONSES)


@router.post("/regions", status_code=status.HTTP_201_CREATED, response_model=RegionOut,
             summary="Add a province, city, county or township (admins)")  # fmt: skip
async def create_region(
    data: RegionCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> RegionOut:
    region = await service.create_region(session=session, clock=clock, principal=principal, data=data)
    return RegionOut.model_validate(region)


@router.get("/regions", response_model=Page[RegionOut], summary="Regions you can see")
async def list_regions(
    session: SessionDep,
    principal: PrincipalDep,
    parent_id: Annotated[Id | None, Query(description="Only the regions directly under this one")] = None,
    level: Annotated[RegionLevel | None, Query(description="Only regions of this level")] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[RegionOut]:
    rows, next_cursor = await service.list_regions(
        session=session, principal=principal, parent_id=parent_id, level=level, limit=limit, cursor=cursor
    )
    return Page(items=[RegionOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/regions/{region_id}", response_model=RegionOut, summary="One region")
async def get_region(region_id: Id, session: SessionDep, principal: PrincipalDep) -> RegionOut:
    region = await service.get_region(session=session, principal=principal, region_id=region_id)
    return RegionOut.model_validate(region)


@router.put("/stations/{station_id}/region", response_model=StationOut,
            summary="Place a station under a township (admins)")  # fmt: skip
async def place_station(
    station_id: Id, data: StationRegionIn, session: SessionDep, principal: PrincipalDep
) -> StationOut:
    station = await service.place_station(
        session=session, principal=principal, station_id=station_id, region_id=data.region_id
    )
    return StationOut.model_validate(station)


@router.get("/regions/{region_id}/coverage", response_model=CoverageOut,
            summary="Which townships below a region have a station, and their social workers")  # fmt: skip
async def get_coverage(region_id: Id, session: SessionDep, principal: PrincipalDep) -> CoverageOut:
    found = await coverage(session, principal, region_id)
    return CoverageOut(
        region_id=found.region.id,
        townships=len(found.townships),
        townships_with_station=found.townships_with_station,
        stations=found.stations,
        social_workers=found.social_workers,
        by_qualification=[
            QualificationCount(qualification=q, label=QUALIFICATION_LABELS[q], social_workers=n)
            for q, n in found.by_qualification.items()
        ],
        items=[
            TownshipCoverage(id=t.id, name=t.name, code=t.code, stations=t.stations) for t in found.townships
        ],
    )
