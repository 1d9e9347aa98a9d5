"""FastAPI dependencies: the request's transaction, the caller, the clock and the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Unauthorized
from coordinator.observability.logging import annotate_request
from coordinator.settings import Settings


# ``async`` although they await nothing: FastAPI runs plain ``def`` dependencies in a worker
# thread, a thread hop per request for a dictionary lookup.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed when the handler returns, rolled back if it raises.

    Declared with ``scope="function"`` so the commit happens before the response is sent: a
    failed commit becomes an error response instead of a success already on the wire."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session, session.begin():
        yield session


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


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


async def get_bearer_user_id(
    settings: SettingsDep, clock: ClockDep, token: Annotated[str | None, Depends(_bearer)]
) -> int:
    """The caller's user id from a verified bearer token, without reading the database.

    For hot routes that check the account (exists, active) in their own single query instead of
    ``PrincipalDep``'s; such a route must answer ``account_disabled`` itself."""
    from coordinator.auth.service import user_id_from_token

    if not token:
        raise Unauthorized("请先登录", "Authentication required", code="not_authenticated")
    user_id = user_id_from_token(settings=settings, clock=clock, token=token)
    annotate_request(user_id=user_id)
    return user_id


BearerUserIdDep = Annotated[int, Depends(get_bearer_user_id)]
