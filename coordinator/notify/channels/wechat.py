"""WeChat: Official Account template messages or Mini Program subscribe messages.

Template messages carry ``client_msg_id`` = ``n{notification_id}``: WeChat sends the same openid
+ id only once within ten minutes. A subscribe message uses up one opt-in of the user; when none
is left WeChat answers 43101 and the message must go by another channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx

from coordinator.notify.channels.base import (
    DEFAULT_RETRY_AFTER,
    Channel,
    OutboundMessage,
    SendResult,
    status_failure,
    transport_failure,
)
from coordinator.notify.channels.wechat_token import TokenUnavailable, WechatTokenStore

WechatMode = Literal["official_account", "mini_program"]

# The access token was invalid (40001), malformed (40014) or expired (42001): refresh once.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# 43101: the user refused or has no opt-in left; 40003: bad openid; 40037: bad template id;
# 47003: a template parameter does not fit.
PERMANENT_ERRCODES = frozenset({43101, 40003, 40037, 47003})
DAILY_QUOTA_ERRCODE = 45009
BUSY_ERRCODE = -1

_PATHS: dict[WechatMode, str] = {
    "official_account": "/cgi-bin/message/template/send",
    "mini_program": "/cgi-bin/message/subscribe/send",
}


def result_for_errcode(errcode: int, errmsg: str, msgid: str | None) -> SendResult:
    code = f"wechat_{errcode}"
    if errcode == 0:
        return SendResult.sent(msgid)
    if errcode == DAILY_QUOTA_ERRCODE:
        return SendResult.throttled(code, errmsg, retry_after=3_600.0)
    if errcode == BUSY_ERRCODE or errcode in TOKEN_ERRCODES:
        # WeChat refused to process the call at all; nothing was sent.
        return SendResult.throttled(code, errmsg, retry_after=DEFAULT_RETRY_AFTER)
    # PERMANENT_ERRCODES and any other rejection of this message.
    return SendResult.permanent(code, errmsg)


def template_data(params: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {key: {"value": value} for key, value in params.items()}


class WechatChannel(Channel):
    name: ClassVar[str] = "wechat"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        tokens: WechatTokenStore,
        template_ids: Mapping[str, str],
        mode: WechatMode = "official_account",
        base_url: str = "https://api.weixin.qq.com",
        miniprogram_state: str = "formal",
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._template_ids = dict(template_ids)
        self._mode = mode
        self._base_url = base_url.rstrip("/")
        self._miniprogram_state = miniprogram_state

    def request_body(self, message: OutboundMessage, template_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "touser": message.recipient,
            "template_id": template_id,
            "data": template_data(message.params),
        }
        if self._mode == "official_account":
            body["client_msg_id"] = f"n{message.notification_id}"
            if message.url:
                body["url"] = message.url
        else:
            body["miniprogram_state"] = self._miniprogram_state
            body["lang"] = "zh_CN"
            if message.url:
                body["page"] = message.url
        return body

    async def send(self, message: OutboundMessage) -> SendResult:
        template_id = self._template_ids.get(message.template_key)
        if template_id is None:
            return SendResult.permanent("template_not_configured", message.template_key)
        body = self.request_body(message, template_id)
        try:
            token = await self._tokens.get()
            result, errcode = await self._post(body, token)
            if errcode in TOKEN_ERRCODES:
                token = await self._tokens.refresh(rejected=token)
                result, errcode = await self._post(body, token)
        except TokenUnavailable as exc:
            return exc.result
        return result

    async def _post(self, body: dict[str, Any], token: str) -> tuple[SendResult, int | None]:
        url = f"{self._base_url}{_PATHS[self._mode]}"
        try:
            response = await self._http.post(url, params={"access_token": token}, json=body)
        except httpx.TransportError as exc:
            return transport_failure(exc), None
        failure = status_failure(response)
        if failure is not None:
            return failure, None
        try:
            answer: Any = response.json()
            errcode = int(answer.get("errcode", 0))
        except (ValueError, TypeError, AttributeError):
            return SendResult.unknown("unreadable_response", response.text[:200]), None
        msgid = answer.get("msgid")
        result = result_for_errcode(errcode, str(answer.get("errmsg", "")), str(msgid) if msgid else None)
        return result, errcode
