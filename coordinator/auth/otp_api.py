"""Routes of the phone-code login for volunteers (see ``otp`` for the rules)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, BackgroundTasks, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth import otp
from coordinator.auth.schemas import TokenOut
from coordinator.auth.service import issue_access_token
from coordinator.deps import ClockDep, SessionDep, SettingsDep, client_address
from coordinator.errors import CoordinatorError, error_responses
from coordinator.fields import Id
from coordinator.notify.channels import Channel

router = APIRouter(tags=["auth"])


class OtpRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"phone": "13812341234"}})

    phone: str = Field(min_length=1, max_length=40)


class OtpRequested(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"sent": True, "expires_in": 300}})

    sent: bool = True
    expires_in: int


class OtpVerify(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"phone": "13812341234", "code": "482913", "station_id": None}}
    )

    phone: str = Field(min_length=1, max_length=40)
    code: str = Field(pattern=r"^\s*\d{6}\s*$")
    station_id: Id | None = Field(default=None, description="Which station's record, if on several")


@router.post(
    "/auth/otp/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OtpRequested,
    responses=error_responses(422, 429),
    summary="Send a login code by SMS",
)
async def request_code(
    data: OtpRequest,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> OtpRequested:
    """Answers the same whether or not a volunteer has this phone; the SMS goes after commit."""
    delivery = await otp.request_code(session, clock, settings, phone=data.phone, ip=client_address(request))
    if delivery is not None:
        sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
        channels: Mapping[str, Channel] = request.app.state.channels
        # Background tasks run after the response, so after the request's transaction committed.
        background.add_task(
            otp.send_code,
            sessionmaker=sessionmaker,
            clock=clock,
            settings=settings,
            channels=channels,
            delivery=delivery,
        )
    return OtpRequested(expires_in=settings.otp_ttl_seconds)


@router.post(
    "/auth/otp/verify",
    response_model=TokenOut,
    responses=error_responses(401, 422, 429),
    summary="Exchange a login code for a bearer token",
)
async def verify_code(
    data: OtpVerify, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> TokenOut | JSONResponse:
    outcome = await otp.verify_code(
        session, clock, settings, phone=data.phone, code=data.code, station_id=data.station_id
    )
    if isinstance(outcome, CoordinatorError):
        # Answered, not raised: the counted attempt must commit with the error.
        return JSONResponse(outcome.envelope(), status_code=outcome.status_code, headers=outcome.headers)
    return TokenOut(access_token=issue_access_token(settings=settings, clock=clock, user=outcome))
