"""Routes of WeChat sign-in from the mini program, unbinding, and subscribe-message consent."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from coordinator.auth import otp
from coordinator.auth.models import Role
from coordinator.auth.schemas import TokenOut
from coordinator.auth.service import issue_access_token
from coordinator.auth.wechat import WechatLogin, bind, bound_user, unbind
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import CoordinatorError, Invalid, NotFound, Unauthorized, error_responses
from coordinator.fields import Id
from coordinator.notify.subscriptions import record_results
from coordinator.people.models import Person

router = APIRouter(tags=["auth"])


class MiniProgramLogin(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"code": "0a1b2c3d4e", "phone": "13812341234", "otp_code": "482913"}}
    )

    code: str = Field(min_length=1, max_length=128, description="From wx.login; good once")
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    otp_code: str | None = Field(default=None, pattern=r"^\s*\d{6}\s*$")
    station_id: Id | None = None


class SubscriptionResults(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"results": {"tmpl-reminder": "accept", "tmpl-changed": "reject"}}}
    )

    # What wx.requestSubscribeMessage answered, per template id.
    results: dict[str, Literal["accept", "reject", "ban", "filter"]] = Field(min_length=1, max_length=20)


class SubscriptionsLeft(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"remaining": {"tmpl-reminder": 2, "tmpl-changed": 0}}}
    )

    # Messages each template may still carry to this person.
    remaining: dict[str, int]


def _login(request: Request) -> WechatLogin:
    login: WechatLogin = request.app.state.wechat_login
    if not login.miniprogram_enabled:
        raise NotFound(
            "未启用微信小程序登录", "Mini program sign-in is not configured", code="wechat_disabled"
        )
    return login


@router.post(
    "/auth/wechat/miniprogram",
    response_model=TokenOut,
    responses=error_responses(401, 404, 422, 429, 503),
    summary="Sign in from the mini program (binding WeChat the first time)",
)
async def miniprogram_login(
    data: MiniProgramLogin, request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> TokenOut | JSONResponse:
    """A bound WeChat user signs in with the code alone. The first time, the answer is 401
    ``wechat_not_bound``: the mini program asks for the phone, sends the SMS code
    (``/auth/otp/request``) and calls again with a new ``code``, ``phone`` and ``otp_code``."""
    openid = await _login(request).miniprogram_openid(data.code)
    outcome = await bound_user(session, clock, openid)
    if outcome is None:
        if data.phone is None or data.otp_code is None:
            raise Unauthorized(
                "请先用手机验证码绑定微信", "Prove your phone once to bind WeChat", code="wechat_not_bound"
            )
        outcome = await otp.verify_code(
            session, clock, settings, phone=data.phone, code=data.otp_code, station_id=data.station_id
        )
        if not isinstance(outcome, CoordinatorError) and outcome.person_id is not None:
            await bind(session, person_id=outcome.person_id, openid=openid)
    if isinstance(outcome, CoordinatorError):
        # Answered, not raised: a counted code attempt must commit with the error.
        return JSONResponse(outcome.envelope(), status_code=outcome.status_code, headers=outcome.headers)
    return TokenOut(access_token=issue_access_token(settings=settings, clock=clock, user=outcome))


async def _own_person(session: SessionDep, principal: PrincipalDep) -> Person:
    principal.require(Role.volunteer)
    person = await session.get(Person, principal.person_id) if principal.person_id else None
    if person is None:
        raise NotFound("没有对应的志愿者档案", "No person record behind this account", code="not_found")
    return person


@router.delete(
    "/auth/wechat",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422),
    summary="Unbind my WeChat",
)
async def unbind_wechat(session: SessionDep, principal: PrincipalDep) -> Response:
    """Messages go by SMS again; the subscriptions kept for the openid are dropped."""
    person = await _own_person(session, principal)
    await unbind(session, person_id=person.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/wechat/subscriptions",
    response_model=SubscriptionsLeft,
    responses=error_responses(401, 403, 404, 422),
    summary="Report what requestSubscribeMessage answered",
)
async def report_subscriptions(
    data: SubscriptionResults,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> SubscriptionsLeft:
    """Each ``accept`` allows one more message with that template; ``ban`` and ``filter`` none."""
    person = await _own_person(session, principal)
    if person.wechat_openid is None:
        raise Unauthorized("请先绑定微信", "Bind WeChat first", code="wechat_not_bound")
    known = {template.id for template in settings.wechat_templates.values()}
    unknown = sorted(set(data.results) - known)
    if unknown:
        raise Invalid(
            "不是本系统使用的订阅消息模板",
            f"Not a template of this service: {', '.join(unknown)}",
            code="unknown_template",
            field="results",
        )
    left = await record_results(session, openid=person.wechat_openid, results=data.results, now=clock.now())
    person.wechat_refusal = None
    return SubscriptionsLeft(remaining=left)
