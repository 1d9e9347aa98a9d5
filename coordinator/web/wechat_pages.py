"""Volunteer pages opened inside WeChat sign in by web authorization (official account).

``/web/wechat/start`` sends the browser to WeChat with a random ``state`` that is also kept in a
signed cookie; the callback accepts only that state, so a callback forged by another site (or
replayed in another browser) signs nobody in. A bound openid signs its person in at once; an
unbound one waits in a signed cookie until the volunteer proves their phone with the SMS code
(``auth_pages.otp_verify`` binds it)."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from coordinator.auth.models import User
from coordinator.auth.wechat import WechatLogin, bind, bound_user
from coordinator.db import transaction
from coordinator.errors import CoordinatorError, Forbidden
from coordinator.web import session as cookies
from coordinator.web.context import clock_of, safe_next, sessionmaker_of, settings_of

router = APIRouter()

STATE_COOKIE = "coord_wx_state"
BIND_COOKIE = "coord_wx_bind"
# Long enough to pass WeChat's page and type an SMS code, short enough not to linger.
FLOW_LIFETIME = timedelta(minutes=10)
CALLBACK_PATH = "/web/wechat/callback"


def in_wechat(request: Request) -> bool:
    return "MicroMessenger" in request.headers.get("user-agent", "")


def web_login(request: Request) -> WechatLogin:
    login: WechatLogin = request.app.state.wechat_login
    return login


@router.get("/web/wechat/start", include_in_schema=False)
async def start(request: Request, next: str = "") -> Response:
    settings, clock = settings_of(request), clock_of(request)
    next_path = safe_next(next, "/web/m")
    login = web_login(request)
    if not login.web_enabled:
        return RedirectResponse(f"/web/otp?next={quote(next_path, safe='')}", status_code=303)
    state = secrets.token_urlsafe(16)
    callback = f"{settings.public_base_url.rstrip('/')}{CALLBACK_PATH}"
    response = RedirectResponse(login.authorize_url(redirect_uri=callback, state=state), status_code=302)
    cookies.set_signed(
        response,
        settings,
        clock,
        name=STATE_COOKIE,
        claims={"s": state, "next": next_path},
        lifetime=FLOW_LIFETIME,
    )
    return response


@router.get(CALLBACK_PATH, include_in_schema=False)
async def callback(request: Request, code: str = "", state: str = "") -> Response:
    settings, clock = settings_of(request), clock_of(request)
    flow = cookies.signed(request, settings, clock, STATE_COOKIE)
    if flow is None or not state or not hmac.compare_digest(str(flow.get("s", "")), state):
        raise Forbidden(
            "微信登录校验失败，请从微信重新打开页面",
            "WeChat sign-in could not be verified: open the page from WeChat again",
            code="wechat_state_invalid",
        )
    next_path = safe_next(str(flow.get("next", "")), "/web/m")
    openid = await web_login(request).web_openid(code)
    async with transaction(sessionmaker_of(request)) as session:
        outcome = await bound_user(session, clock, openid)
    if isinstance(outcome, CoordinatorError):
        raise outcome
    if outcome is None:
        # First time: the phone decides whose openid this is.
        response = RedirectResponse(f"/web/otp?next={quote(next_path, safe='')}", status_code=303)
        cookies.set_signed(
            response, settings, clock, name=BIND_COOKIE, claims={"o": openid}, lifetime=FLOW_LIFETIME
        )
    else:
        response = RedirectResponse(next_path, status_code=303)
        cookies.start_session(response, settings, clock, outcome)
    response.delete_cookie(STATE_COOKIE, path="/")
    return response


async def bind_waiting_openid(request: Request, response: Response, user: User) -> None:
    """After a phone login: bind the openid the WeChat callback left waiting, if any."""
    waiting = cookies.signed(request, settings_of(request), clock_of(request), BIND_COOKIE)
    if waiting is None or user.person_id is None:
        return
    async with transaction(sessionmaker_of(request)) as session:
        await bind(session, person_id=user.person_id, openid=str(waiting["o"]))
    response.delete_cookie(BIND_COOKIE, path="/")
