from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict, not_found
from coordinator.pagination import paginate
from coordinator.stations.models import Organization, Station
from coordinator.stations.schemas import OrganizationCreate, StationCreate


async def create_station(
    *, session: AsyncSession, clock: Clock, principal: Principal, data: StationCreate
) -> Station:
    principal.require(Role.admin)
    station = Station(**data.model_dump(), created_at=clock.now())
    session.add(station)
    await flush_or_raise(
        session,
        Conflict(
            "服务站编码已存在", f"Station code {data.code!r} exists", code="station_code_taken", field="code"
        ),
    )
    return station


async def get_station(*, session: AsyncSession, principal: Principal, station_id: int) -> Station:
    """A station the principal may see; any other id answers 404, as if it did not exist."""
    station = await session.get(Station, station_id)
    if station is None or not principal.can_access(station_id):
        raise not_found("服务站", "station", station_id)
    return station


async def list_stations(
    *, session: AsyncSession, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[Station], str | None]:
    stmt = select(Station).where(principal.station_filter(Station.id))
    return await paginate(session, stmt, keys=[Station.id], limit=limit, cursor=cursor)


async def create_organization(
    *, session: AsyncSession, clock: Clock, principal: Principal, station_id: int, data: OrganizationCreate
) -> Organization:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=station_id)
    organization = Organization(station_id=station_id, **data.model_dump(), created_at=clock.now())
    session.add(organization)
    await flush_or_raise(
        session,
        Conflict(
            "本站已有同名组织", f"Organization {data.name!r} exists", code="organization_exists", field="name"
        ),
    )
    return organization


async def list_organizations(
    *, session: AsyncSession, principal: Principal, station_id: int, limit: int, cursor: str | None
) -> tuple[list[Organization], str | None]:
    await get_station(session=session, principal=principal, station_id=station_id)
    stmt = select(Organization).where(Organization.station_id == station_id)
    return await paginate(session, stmt, keys=[Organization.id], limit=limit, cursor=cursor)


async def get_organization(
    *, session: AsyncSession, principal: Principal, organization_id: int
) -> Organization:
    organization = await session.get(Organization, organization_id)
    if organization is None or not principal.can_access(organization.station_id):
        raise not_found("组织", "organization", organization_id)
    return organization
