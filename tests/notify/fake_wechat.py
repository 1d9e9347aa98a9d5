"""A local stand-in for the WeChat API that refuses what WeChat refuses.

It knows each template's keys and checks every value against its key type's rules (47003), the
page of a subscribe message (41030), template ids (40037), tokens (40001), followers (43004) and
one-time subscriptions (43101). It also plays web authorization (``connect/oauth2/authorize``
redirects back with a code) and the code exchanges of ``sns/oauth2/access_token`` and
``sns/jscode2session``."""

from __future__ import annotations

import itertools
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.notify.fake_server import FakeProvider, json_answer

_RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"^.{1,20}$", re.DOTALL),
    "time": re.compile(r"^(\d{4}年\d{1,2}月\d{1,2}日 )?\d{2}:\d{2}$"),
    "date": re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日( \d{2}:\d{2})?$"),
    "phrase": re.compile(r"^[\u4e00-\u9fff]{1,5}$"),
    "character_string": re.compile(r"^[\x21-\x7e]{1,32}$"),
    "phone_number": re.compile(r"^[0-9+\-]{1,17}$"),
    "number": re.compile(r"^[0-9.]{1,32}$"),
    "keyword": re.compile(r"^.{1,200}$", re.DOTALL),
}
_KEY = re.compile(r"^([a-z_]+?)(\d+)$")


@dataclass
class Sent:
    path: str
    access_token: str
    body: dict[str, Any]


@dataclass
class FakeTemplate:
    keys: tuple[str, ...]
    pages: tuple[str, ...] = ()  # the mini program's pages a message may open


@dataclass
class FakeUser:
    openid: str
    following: bool = True
    subscriptions: Counter[str] = field(default_factory=Counter)


class FakeWechat(FakeProvider):
    def __init__(self, app_id: str = "wx-test-app", secret: str = "wx-test-secret") -> None:
        super().__init__()
        self.app_id = app_id
        self.secret = secret
        self.token_fetches = 0
        self.token_delay = 0.0
        self.current_token: str | None = None
        self.sent: list[Sent] = []
        self.refused: list[tuple[int, str]] = []
        self.errcodes: deque[int] = deque()
        self.templates: dict[str, FakeTemplate] = {}
        # Users by openid, and the openid each one-time login code stands for.
        self.users: dict[str, FakeUser] = {}
        self.codes: dict[str, str] = {}
        # The user whose WeChat opens the authorization page.
        self.authorizing = ""
        self._ids = itertools.count(1)
        self._token_ids = itertools.count(1)
        self._code_ids = itertools.count(1)

    def invalidate_token(self) -> None:
        """As if the token were revoked: requests with it get 40001, the next fetch a new one."""
        self.current_token = None

    def answer_next(self, *errcodes: int) -> None:
        self.errcodes.extend(errcodes)

    def user(self, openid: str, *, following: bool = True) -> FakeUser:
        self.users[openid] = FakeUser(openid, following)
        return self.users[openid]

    def login_code(self, openid: str) -> str:
        """A code as ``wx.login`` or the authorization redirect would give ``openid``."""
        code = f"code-{next(self._code_ids)}"
        self.codes[code] = openid
        return code

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/stable_token", self.stable_token, methods=["POST"]),
                Route("/cgi-bin/message/template/send", self.send, methods=["POST"]),
                Route("/cgi-bin/message/subscribe/send", self.send, methods=["POST"]),
                Route("/connect/oauth2/authorize", self.authorize),
                Route("/sns/oauth2/access_token", self.oauth_token),
                Route("/sns/jscode2session", self.jscode2session),
            ]
        )

    async def stable_token(self, request: Request) -> Response:
        body = await request.json()
        self.token_fetches += 1
        await self.pause(self.token_delay)
        if body.get("grant_type") != "client_credential" or body.get("appid") != self.app_id:
            return json_answer({"errcode": 40013, "errmsg": "invalid appid"})
        if body.get("secret") != self.secret:
            return json_answer({"errcode": 40125, "errmsg": "invalid appsecret"})
        # Stable tokens: the same one comes back for as long as it is valid.
        if self.current_token is None or body.get("force_refresh"):
            self.current_token = f"token-{next(self._token_ids)}"
        return json_answer({"access_token": self.current_token, "expires_in": 7200})

    async def send(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        body = await request.json()
        self.sent.append(Sent(request.url.path, token, body))
        if self.current_token is None or token != self.current_token:
            return self._refuse(40001, "invalid credential, access_token is invalid")
        errcode = self.errcodes.popleft() if self.errcodes else self._check(request.url.path, body)
        if errcode:
            return self._refuse(errcode, f"fake error {errcode}")
        return json_answer({"errcode": 0, "errmsg": "ok", "msgid": 1000 + next(self._ids)})

    def _refuse(self, errcode: int, errmsg: str) -> Response:
        self.refused.append((errcode, errmsg))
        return json_answer({"errcode": errcode, "errmsg": errmsg})

    def _check(self, path: str, body: dict[str, Any]) -> int:
        """WeChat's checks, in its order; 0 when the message is accepted (and spends its opt-in)."""
        if not self.templates:
            return 0  # no templates registered: the test is about tokens and errcodes alone
        template = self.templates.get(str(body.get("template_id")))
        if template is None:
            return 40037
        data = body.get("data") or {}
        if set(data) != set(template.keys) or not all(_fits(k, v) for k, v in data.items()):
            return 47003
        user = self.users.get(str(body.get("touser")))
        if user is None:
            return 40003
        subscribe = path.endswith("/subscribe/send")
        if subscribe and str(body.get("page", "")).split("?")[0] not in template.pages:
            return 41030
        if not subscribe and not user.following:
            return 43004
        if subscribe:
            if user.subscriptions[body["template_id"]] <= 0:
                return 43101
            user.subscriptions[body["template_id"]] -= 1
        return 0

    async def authorize(self, request: Request) -> Response:
        """The page WeChat shows inside its browser: for ``snsapi_base`` it redirects at once."""
        query = request.query_params
        if query.get("appid") != self.app_id or query.get("scope") != "snsapi_base":
            return Response("appid or scope invalid", status_code=400)
        code = self.login_code(self.authorizing)
        back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return RedirectResponse(back, status_code=302)

    async def oauth_token(self, request: Request) -> Response:
        return self._exchange(request, "code", extra={"access_token": "web-token", "scope": "snsapi_base"})

    async def jscode2session(self, request: Request) -> Response:
        return self._exchange(request, "js_code", extra={"session_key": "c2Vzc2lvbi1rZXk="})

    def _exchange(self, request: Request, code_name: str, *, extra: dict[str, str]) -> Response:
        query = request.query_params
        if query.get("appid") != self.app_id or query.get("secret") != self.secret:
            return json_answer({"errcode": 40125, "errmsg": "invalid appsecret"})
        if query.get("grant_type") != "authorization_code":
            return json_answer({"errcode": 40002, "errmsg": "invalid grant_type"})
        openid = self.codes.pop(query.get(code_name, ""), None)  # a code is good once
        if openid is None:
            return json_answer({"errcode": 40029, "errmsg": "invalid code"})
        return json_answer({"openid": openid, **extra})


def _fits(key: str, entry: Any) -> bool:
    found = _KEY.match(key)
    rule = _RULES.get(found.group(1)) if found else None
    value = entry.get("value") if isinstance(entry, dict) else None
    return rule is not None and isinstance(value, str) and bool(rule.match(value))
