"""A local stand-in for the WeChat API: stable tokens, template and subscribe messages."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.notify.fake_server import FakeProvider, json_answer


@dataclass
class Sent:
    path: str
    access_token: str
    body: dict[str, Any]


class FakeWechat(FakeProvider):
    def __init__(self, app_id: str = "wx-test-app", secret: str = "wx-test-secret") -> None:
        super().__init__()
        self.app_id = app_id
        self.secret = secret
        self.token_fetches = 0
        self.token_delay = 0.0
        self.current_token: str | None = None
        self.sent: list[Sent] = []
        self.errcodes: deque[int] = deque()
        self._ids = itertools.count(1)
        self._token_ids = itertools.count(1)

    def invalidate_token(self) -> None:
        """As if the token were revoked: requests with it get 40001, the next fetch a new one."""
        self.current_token = None

    def answer_next(self, *errcodes: int) -> None:
        self.errcodes.extend(errcodes)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/stable_token", self.stable_token, methods=["POST"]),
                Route("/cgi-bin/message/template/send", self.send, methods=["POST"]),
                Route("/cgi-bin/message/subscribe/send", self.send, methods=["POST"]),
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
        self.sent.append(Sent(request.url.path, token, await request.json()))
        if self.current_token is None or token != self.current_token:
            return json_answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        errcode = self.errcodes.popleft() if self.errcodes else 0
        if errcode:
            return json_answer({"errcode": errcode, "errmsg": f"fake error {errcode}"})
        return json_answer({"errcode": 0, "errmsg": "ok", "msgid": 1000 + next(self._ids)})
