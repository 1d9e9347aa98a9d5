"""WeChat: Official Account template messages or Mini Program subscribe messages.

Each kind's template (``settings.wechat_templates``) says which of our values its keys show;
they are fitted to the key types' rules here. Template messages carry ``client_msg_id`` =
``n{notification_id}``: WeChat sends the same openid + id only once within ten minutes. A
subscribe message opens a page of the mini program and uses up one opt-in of the user; when none
is left WeChat answers 43101 and the message must go by another channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx
import structlog

from coordinator.notify.channels.base import (
    DEFAULT_RETRY_AFTER,
    Channel,
    OutboundMessage,
    SendOutcome,
    SendResult,
    status_failure,
    transport_failure,
)
from coordinator.notify.channels.wechat_token import TokenUnavailable, WechatTokenStore
from coordinator.notify.channels.wechat_values import page_path, template_data
from coordinator.notify.metrics import WECHAT_TEMPLATE_REFUSALS
from coordinator.notify.subscriptions import SubscriptionLedger
from coordinator.settings import WechatTemplate

log = structlog.get_logger(__name__)

WechatMode = Literal["official_account", "mini_program"]

# The access token was invalid (40001), malformed (40014) or expired (42001): refresh once.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# 43004: the user does not follow the official account; 43101: the user refused or has no
# opt-in left. Both say something of the person: noted on them (``outcomes``).
RECIPIENT_ERRCODES = frozenset({43004, 43101})
# 47003: a value does not fit its key; 41030: no such page; 40037: no such template. Our
# configuration is wrong: every message of the kind will be refused until it is fixed.
TEMPLATE_ERRCODES = frozenset({47003, 41030, 40037})
_TEMPLATE_ERRORS = frozenset(f"wechat_{code}" for code in TEMPLATE_ERRCODES)
# What a refusal of RECIPIENT_ERRCODES says of the person (``Person.wechat_refusal``).
REFUSALS = {"wechat_43004": "not_following", "wechat_43101": "no_subscription"}
DAILY_QUOTA_ERRCODE = 45009
BUSY_ERRCODE = -1
NO_SUBSCRIPTION_ERRCODE = 43101

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
    # RECIPIENT_ERRCODES, TEMPLATE_ERRCODES, 40003 (bad openid) and any other rejection.
    return SendResult.permanent(code, errmsg)


class WechatChannel(Channel):
    name: ClassVar[str] = "wechat"

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        tokens: WechatTokenStore,
        templates: Mapping[str, WechatTemplate],
        mode: WechatMode = "official_account",
        base_url: str = "https://api.weixin.qq.com",
        miniprogram_state: str = "formal",
        subscriptions: SubscriptionLedger | None = None,
    ) -> None:
        if mode == "mini_program" and subscriptions is None:
            raise ValueError("subscribe messages need the subscriptions ledger")
        self._http = http
        self._tokens = tokens
        self._templates = dict(templates)
        self._mode = mode
        self._base_url = base_url.rstrip("/")
        self._miniprogram_state = miniprogram_state
        self._subscriptions = subscriptions

    def request_body(self, message: OutboundMessage, template: WechatTemplate) -> dict[str, Any]:
        body: dict[str, Any] = {
            "touser": message.recipient,
            "template_id": template.id,
            "data": template_data(template, message.params),
        }
        if self._mode == "official_account":
            body["client_msg_id"] = f"n{message.notification_id}"
            if message.url:
                body["url"] = message.url
        else:
            body["miniprogram_state"] = self._miniprogram_state
            body["lang"] = "zh_CN"
            page = page_path(template, message.params)
            if page:
                body["page"] = page
        return body

    async def send(self, message: OutboundMessage) -> SendResult:
        template = self._templates.get(message.template_key)
        if template is None:  # the settings changed since the message was planned
            return SendResult.permanent("template_not_configured", message.template_key)
        body = self.request_body(message, template)
        ledger = self._subscriptions if self._mode == "mini_program" else None
        if ledger is not None and not await ledger.spend(message.recipient, template.id):
            return SendResult.permanent("wechat_no_subscription", message.template_key)
        result = await self._send(body)
        if ledger is not None:
            await self._settle_subscription(ledger, message.recipient, template.id, result)
        if result.error_code in _TEMPLATE_ERRORS:
            WECHAT_TEMPLATE_REFUSALS.labels(message.template_key, result.error_code or "").inc()
            log.error(
                "wechat_template_refused",
                kind=message.template_key,
                template_id=template.id,
                error=result.error_code,
                errmsg=result.error_message,
            )
        return result

    @staticmethod
    async def _settle_subscription(
        ledger: SubscriptionLedger, openid: str, template_id: str, result: SendResult
    ) -> None:
        if result.error_code == f"wechat_{NO_SUBSCRIPTION_ERRCODE}":
            await ledger.none_left(openid, template_id)
        elif result.outcome in (SendOutcome.throttled, SendOutcome.permanent_failure):
            # WeChat took nothing: the acceptance is still good for the next message.
            await ledger.give_back(openid, template_id)

    async def _send(self, body: dict[str, Any]) -> SendResult:
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
