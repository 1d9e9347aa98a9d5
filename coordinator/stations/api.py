from __future__ import annotations

from fastapi import APIRouter, status

from coordinator.deps import ClockDep, PrincipalDep, SessionDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.stations import service
from coordinator.stations.schemas import OrganizationCreate, OrganizationOut, StationCreate, StationOut

router = APIRouter(tags=["stations"], responses=ERROR_RESPONSES)


@router.post(
    "/stations",
    status_code=status.HTTP_201_CREATED,
    response_model=StationOut,
    summary="Create a station (admins)",
)
async def create_station(
    data: StationCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> StationOut:
    station = await service.create_station(session=session, clock=clock, principal=principal, data=data)
    return StationOut.model_validate(station)


@router.get("/stations", response_model=Page[StationOut], summary="Stations you can see")
async def list_stations(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = 100, cursor: CursorQuery = None
) -> Page[StationOut]:
    rows, next_cursor = await service.list_stations(
        session=session, principal=principal, limit=limit, cursor=cursor
    )
    return Page(items=[StationOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/stations/{station_id}", response_model=StationOut, summary="One station")
async def get_station(station_id: Id, session: SessionDep, principal: PrincipalDep) -> StationOut:
    station = await service.get_station(session=session, principal=principal, station_id=station_id)
    return StationOut.model_validate(station)


@router.post(
    "/stations/{station_id}/organizations",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationOut,
    summary="Add a community organization to a station",
)
async def create_organization(
    station_id: Id, data: OrganizationCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> OrganizationOut:
    organization = await service.create_organization(
        session=session, clock=clock, principal=principal, station_id=station_id, data=data
    )
    return OrganizationOut.model_validate(organization)


@router.get(
    "/stations/{station_id}/organizations",
    response_model=Page[OrganizationOut],
    summary="A station's community organizations",
)
async def list_organizations(
    station_id: Id,
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[OrganizationOut]:
    rows, next_cursor = await service.list_organizations(
        session=session, principal=principal, station_id=station_id, limit=limit, cursor=cursor
    )
    return Page(items=[OrganizationOut.model_validate(r) for r in rows], next_cursor=next_cursor)
