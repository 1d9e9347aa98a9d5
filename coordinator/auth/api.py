from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth import service
from coordinator.auth.login import log_in
from coordinator.auth.models import User
from coordinator.auth.schemas import PasswordChange, TokenOut, UserCreate, UserOut
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep, client_address
from coordinator.errors import ERROR_RESPONSES, error_responses

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses=error_responses(429),
    summary="Staff login with username and password",
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenOut:
    """Password login for staff (OAuth2 password form); answers a bearer token. Too many failures
    for the username or from the address answer 429 with ``Retry-After``."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    user = await log_in(
        sessionmaker=sessionmaker,
        clock=clock,
        settings=settings,
        username=form.username,
        password=form.password,
        address=client_address(request),
    )
    return TokenOut(access_token=service.issue_access_token(settings=settings, clock=clock, user=user))


@router.post("/users/me/password", response_model=TokenOut, summary="Change one's own password")
async def change_password(
    data: PasswordChange, session: SessionDep, settings: SettingsDep, clock: ClockDep, principal: PrincipalDep
) -> TokenOut:
    """Every earlier token and web session of the account ends; answers a new token."""
    user = await service.change_password(
        session=session,
        user_id=principal.user_id,
        current_password=data.current_password,
        new_password=data.new_password,
    )
    return TokenOut(access_token=service.issue_access_token(settings=settings, clock=clock, user=user))


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, summary="Create a staff user"
)
async def create_user(
    data: UserCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> UserOut:
    """Admins create any user; station heads create organizers of their own stations."""
    user = await service.create_user(
        session=session,
        clock=clock,
        actor=principal,
        username=data.username,
        password=data.password,
        role=data.role,
        station_ids=data.station_ids,
        region_id=data.region_id,
    )
    return _user_out(user, sorted(set(data.station_ids)))


@router.get("/users/me", response_model=UserOut, summary="The logged-in user")
async def me(session: SessionDep, principal: PrincipalDep) -> UserOut:
    user = await session.get(User, principal.user_id)
    assert user is not None
    return _user_out(user, sorted(principal.station_ids))


def _user_out(user: User, station_ids: list[int]) -> UserOut:
    return UserOut.model_validate(user).model_copy(update={"station_ids": station_ids})
