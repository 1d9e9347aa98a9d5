"""FastAPI dependencies: the request's transaction, the caller, the clock, the settings and the
routing of reads to a replica."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.errors import Unauthorized
from coordinator.observability.logging import annotate_request
from coordinator.replica import Reads
from coordinator.settings import Settings


# ``async`` although they await nothing: FastAPI runs plain ``def`` dependencies in a worker
# thread, a thread hop per request for a dictionary lookup.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def client_address(request: Request) -> str:
    """Who is calling, for the per-address limits: the peer, or the address a trusted proxy
    forwarded (``settings.trusted_proxies``, applied by the app's proxy middleware)."""
    return request.client.host if request.client else "unknown"


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed when the handler returns, rolled back if it raises.

    Declared with ``scope="function"`` so the commit happens before the response is sent: a
    failed commit becomes an error response instead of a success already on the wire."""
    async with transaction(request.app.state.sessionmaker) as session:
        yield session


async def get_reads(request: Request) -> Reads:
    reads: Reads = request.app.state.reads
    return reads


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadsDep = Annotated[Reads, Depends(get_reads)]


async def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> Principal:
    # Imported here: the auth service imports this module's siblings, not the other way round.
    from coordinator.auth.service import principal_from_token

    if not token:
        raise Unauthorized("请先登录", "Authentication required", code="not_authenticated")
    principal = await principal_from_token(session=session, settings=settings, clock=clock, token=token)
    only_station = next(iter(principal.station_ids)) if len(principal.station_ids) == 1 else None
    annotate_request(user_id=principal.user_id, station_id=only_station)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
