"""Volunteers signing in with WeChat.

A code from web authorization (official account, ``snsapi_base``) or from ``wx.login`` (mini
program) is exchanged for the user's openid. A bound openid signs its person in; an unbound one
is bound once the volunteer has proved their phone with an SMS code. The openid is personal data:
it never leaves the server (staff see only whether a person is bound)."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import User
from coordinator.auth.otp import volunteer_user
from coordinator.clock import Clock
from coordinator.errors import CoordinatorError, NotFound, Unauthorized
from coordinator.notify.subscriptions import forget
from coordinator.people.models import Person
from coordinator.settings import Settings

# A code exchange sends nothing and changes nothing at WeChat, so a short bound is enough.
EXCHANGE_TIMEOUT = httpx.Timeout(5.0)


class WechatUnavailable(CoordinatorError):
    status_code: ClassVar[int] = 503
    default_code: ClassVar[str] = "wechat_unavailable"


def _code_invalid(detail: str) -> Unauthorized:
    return Unauthorized(
        "微信授权已失效，请重新进入",
        f"The WeChat sign-in code is invalid or used ({detail})",
        code="wechat_code_invalid",
    )


class WechatLogin:
    """The code exchanges against WeChat; built at start-up with an HTTP client of its own."""

    def __init__(self, *, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._http = http or httpx.AsyncClient(timeout=EXCHANGE_TIMEOUT)

    @property
    def web_enabled(self) -> bool:
        """Web authorization needs an official account (a mini program's app id has none)."""
        return bool(self._settings.wechat_app_id) and self._settings.wechat_mode == "official_account"

    @property
    def miniprogram_enabled(self) -> bool:
        return bool(self._settings.wechat_app_id) and self._settings.wechat_mode == "mini_program"

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "appid": self._settings.wechat_app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",  # the openid only, without asking the user anything
                "state": state,
            }
        )
        base = self._settings.wechat_oauth_url.rstrip("/")
        return f"{base}/connect/oauth2/authorize?{query}#wechat_redirect"

    async def web_openid(self, code: str) -> str:
        return await self._exchange("/sns/oauth2/access_token", {"code": code})

    async def miniprogram_openid(self, code: str) -> str:
        return await self._exchange("/sns/jscode2session", {"js_code": code})

    async def _exchange(self, path: str, params: dict[str, str]) -> str:
        query = {
            "appid": self._settings.wechat_app_id,
            "secret": self._settings.wechat_app_secret.get_secret_value(),
            "grant_type": "authorization_code",
            **params,
        }
        url = f"{self._settings.wechat_base_url.rstrip('/')}{path}"
        try:
            response = await self._http.get(url, params=query)
            answer: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unavailable(type(exc).__name__) from exc
        if not isinstance(answer, dict):
            raise _unavailable(f"HTTP {response.status_code}")
        if answer.get("openid"):
            return str(answer["openid"])
        errcode = answer.get("errcode")
        if errcode in (-1, 45011):  # busy, or too many calls a minute: try again
            raise _unavailable(f"errcode {errcode}")
        raise _code_invalid(f"errcode {errcode}")

    async def aclose(self) -> None:
        await self._http.aclose()


def _unavailable(detail: str) -> WechatUnavailable:
    return WechatUnavailable("微信暂时无法登录，请稍后再试", f"WeChat sign-in is unavailable ({detail})")


async def bound_user(session: AsyncSession, clock: Clock, openid: str) -> User | CoordinatorError | None:
    """The volunteer account of the person bound to ``openid``; None when nobody is."""
    stmt = select(Person).where(Person.wechat_openid == openid, Person.is_active.is_(True))
    person = await session.scalar(stmt.order_by(Person.id).limit(1))
    return None if person is None else await volunteer_user(session, clock, person)


async def bind(session: AsyncSession, *, person_id: int, openid: str) -> None:
    """Bind ``openid`` to the person (who chose WeChat by binding it); one WeChat user is one
    person, so any earlier binding of the openid ends."""
    await session.execute(
        update(Person)
        .where(Person.wechat_openid == openid, Person.id != person_id)
        .values(wechat_openid=None)
        .execution_options(synchronize_session=False)
    )
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None:
        raise NotFound("人员不存在", "No such person", code="not_found")
    person.wechat_openid, person.consent_wechat, person.wechat_refusal = openid, True, None
    await session.flush()


async def unbind(session: AsyncSession, *, person_id: int) -> None:
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None or person.wechat_openid is None:
        return
    await forget(session, person.wechat_openid)
    person.wechat_openid, person.wechat_refusal = None, None
    await session.flush()
