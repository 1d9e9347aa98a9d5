"""Aliyun SMS (dysmsapi ``SendSms``, ``SendBatchSms`` and ``QuerySendDetails``, version
2017-05-25), signed with RPC signature v1 (HMAC-SHA1).

Neither send is idempotent and no SDK-style auto-retry happens here: a timeout is ``unknown`` and
is resolved from the receipt carrying our ``OutId`` (the notification id, or for a batch the id
of its first row, which every row of the batch keeps as ``batch_id``) and the phone number, or
from ``QuerySendDetails``, which lists the same ``OutId`` per phone and send date.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from coordinator.clock import Clock
from coordinator.notify.channels.base import (
    DEFAULT_RETRY_AFTER,
    SEND_ALONE,
    BatchingChannel,
    OutboundMessage,
    QueryFailed,
    QueryingChannel,
    ReportState,
    SendOutcome,
    SendResult,
    SentRecord,
    compact_json,
    status_failure,
    transport_failure,
)

API_VERSION = "2017-05-25"
_FORM = {"content-type": "application/x-www-form-urlencoded"}
# QuerySendDetails files messages under their send date in Beijing time, at most 50 to a page.
SEND_DATE_ZONE = ZoneInfo("Asia/Shanghai")
QUERY_PAGE_SIZE = 50
# A phone gets a handful of messages a day (the daily cap): more pages than this is not ours.
QUERY_MAX_PAGES = 4
_SEND_STATES = {1: ReportState.waiting, 2: ReportState.failed, 3: ReportState.delivered}

# Aliyun rejected the message and will not send it; retrying the same request cannot help.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
    }
)
# Rolling windows: the day limit counts the last 24 hours; the month one is re-checked daily.
THROTTLE_WINDOWS = {
    "isv.DAY_LIMIT_CONTROL": 86_400.0,
    "isv.MONTH_LIMIT_CONTROL": 86_400.0,
}
# The provider failed while handling the request: it may or may not have sent the message.
UNKNOWN_CODES = frozenset({"isp.SYSTEM_ERROR", "InternalError", "ServiceUnavailable"})


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature wants it: space → ``%20``, ``*`` → ``%2A``, ``~`` kept.

    Equal to ``urllib.parse.quote(value, safe="~")``, but each run of characters to encode is
    done at once in C (``bytes.hex`` with a separator) instead of byte by byte: a batch of a
    hundred Chinese messages is mostly such runs."""
    return _UNRESERVED_RUN.sub(_encode_run, value)


_UNRESERVED_RUN = re.compile(r"[^A-Za-z0-9_.~-]+")


def _encode_run(match: re.Match[str]) -> str:
    return "%" + match[0].encode().hex("%").upper()


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


def string_to_sign(params: Mapping[str, str], method: str = "GET") -> str:
    return _string_to_sign(canonical_query(params), method)


def _string_to_sign(canonical: str, method: str) -> str:
    # Encoding the canonical query again only touches the three characters encoding left in it
    # ("%", "=", "&"): three replaces instead of a second byte-by-byte pass over a whole batch.
    encoded = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{method}&%2F&{encoded}"


def signature(params: Mapping[str, str], access_key_secret: str, method: str = "GET") -> str:
    return _sign(string_to_sign(params, method), access_key_secret)


def signed_query(params: Mapping[str, str], access_key_secret: str, method: str = "GET") -> str:
    """The canonical query with its ``Signature``: the URL's query (GET) or the form body (POST)."""
    canonical = canonical_query(params)
    signed = _sign(_string_to_sign(canonical, method), access_key_secret)
    return f"{canonical}&Signature={percent_encode(signed)}"


def _sign(to_sign: str, access_key_secret: str) -> str:
    key = f"{access_key_secret}&".encode()
    return base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha1).digest()).decode()


def aliyun_phone(e164: str) -> str:
    """Mainland numbers go without a prefix; others as country code + number without ``+``."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def business_limit_window(message: str) -> float:
    """``isv.BUSINESS_LIMIT_CONTROL`` names its window in the message (分钟级/小时级/天级流控)."""
    if "天" in message:
        return 86_400.0
    if "小时" in message:
        return 3_600.0
    return 60.0


def result_for_code(code: str, message: str, biz_id: str | None) -> SendResult:
    if code == "OK":
        return SendResult.sent(biz_id)
    if code == "isv.BUSINESS_LIMIT_CONTROL":
        return SendResult.throttled(code, message, retry_after=business_limit_window(message))
    if code in THROTTLE_WINDOWS:
        return SendResult.throttled(code, message, retry_after=THROTTLE_WINDOWS[code])
    if code.startswith("Throttling"):
        return SendResult.throttled(code, message, retry_after=DEFAULT_RETRY_AFTER)
    if code in UNKNOWN_CODES:
        return SendResult.unknown(code, message)
    # PERMANENT_CODES and any other definite rejection (bad signature, missing permission …).
    return SendResult.permanent(code, message)


class AliyunSmsChannel(BatchingChannel, QueryingChannel):
    name: ClassVar[str] = "sms_aliyun"
    max_batch: ClassVar[int] = 100  # SendBatchSms takes at most 100 numbers
    lists_accepted: ClassVar[bool] = True  # SendStatus 1 (waiting for the report) from acceptance on
    query_days: ClassVar[int] = 30

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        access_key_id: str,
        access_key_secret: SecretStr,
        sign_name: str,
        template_codes: Mapping[str, str],
        endpoint: str = "https://dysmsapi.aliyuncs.com",
        region_id: str = "cn-hangzhou",
        nonce: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._http = http
        self._clock = clock
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self._sign_name = sign_name
        self._template_codes = dict(template_codes)
        self._endpoint = endpoint.rstrip("/")
        self._region_id = region_id
        self._nonce = nonce

    def signed_query(self, message: OutboundMessage, template_code: str) -> str:
        return self._signed(
            "SendSms",
            {
                "PhoneNumbers": aliyun_phone(message.recipient),
                "SignName": self._sign_name,
                "TemplateCode": template_code,
                "TemplateParam": compact_json(message.params),
                "OutId": str(message.notification_id),
            },
        )

    def signed_batch_body(
        self, messages: Sequence[OutboundMessage], template_code: str, correlation_id: int
    ) -> str:
        return self._signed(
            "SendBatchSms",
            {
                "PhoneNumberJson": compact_json([aliyun_phone(m.recipient) for m in messages]),
                "SignNameJson": compact_json([self._sign_name] * len(messages)),
                "TemplateCode": template_code,
                "TemplateParamJson": compact_json([m.params for m in messages]),
                "OutId": str(correlation_id),
            },
            method="POST",
        )

    def _signed(self, action: str, fields: dict[str, str], method: str = "GET") -> str:
        params = {
            "AccessKeyId": self._access_key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": self._region_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self._nonce(),
            "SignatureVersion": "1.0",
            "Timestamp": self._clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            **fields,
        }
        return signed_query(params, self._access_key_secret.get_secret_value(), method)

    async def send(self, message: OutboundMessage) -> SendResult:
        template_code = self._template_codes.get(message.template_key)
        if template_code is None:
            return SendResult.permanent("template_not_configured", message.template_key)
        url = f"{self._endpoint}/?{self.signed_query(message, template_code)}"
        try:
            response = await self._http.get(url)
        except httpx.TransportError as exc:
            return transport_failure(exc)
        return self._result(response)

    def batch_key(self, message: OutboundMessage) -> str | None:
        if message.template_key in SEND_ALONE:
            return None
        return self._template_codes.get(message.template_key)

    async def send_batch(self, messages: Sequence[OutboundMessage], correlation_id: int) -> list[SendResult]:
        """One SendBatchSms (POST: a hundred recipients' parameters overflow a URL). The answer
        is one code and one BizId for the whole request. A refusal delivered nothing, and one bad
        number refuses the whole request, so a refused batch is retried one message at a time:
        only the messages that are themselves refused fail."""
        template_code = self._template_codes[messages[0].template_key]
        body = self.signed_batch_body(messages, template_code, correlation_id)
        try:
            response = await self._http.post(f"{self._endpoint}/", content=body, headers=_FORM)
        except httpx.TransportError as exc:
            return [transport_failure(exc)] * len(messages)
        result = self._result(response)
        if result.outcome is SendOutcome.permanent_failure and len(messages) > 1:
            return [await self.send(message) for message in messages]
        return [result] * len(messages)

    async def query_sent(self, phone: str, sent_from: datetime, sent_until: datetime) -> list[SentRecord]:
        """QuerySendDetails for each send date the interval touches, page by page."""
        records: list[SentRecord] = []
        for day in _send_dates(sent_from, sent_until):
            records.extend(await self._query_day(phone, day))
        return records

    async def _query_day(self, phone: str, day: date) -> list[SentRecord]:
        records: list[SentRecord] = []
        for page in range(1, QUERY_MAX_PAGES + 1):
            found, total = await self._query_page(phone, day, page)
            records.extend(found)
            if len(found) < QUERY_PAGE_SIZE or len(records) >= total:
                break
        return records

    async def _query_page(self, phone: str, day: date, page: int) -> tuple[list[SentRecord], int]:
        query = self._signed(
            "QuerySendDetails",
            {
                "PhoneNumber": aliyun_phone(phone),
                "SendDate": day.strftime("%Y%m%d"),
                "PageSize": str(QUERY_PAGE_SIZE),
                "CurrentPage": str(page),
            },
        )
        try:
            response = await self._http.get(f"{self._endpoint}/?{query}")
            answer: Any = response.json()
        except (httpx.TransportError, ValueError) as exc:
            raise QueryFailed(type(exc).__name__) from exc
        if not isinstance(answer, dict) or answer.get("Code") != "OK":
            raise QueryFailed(f"http_{response.status_code}: {str(answer)[:200]}")
        try:
            details = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            return [_sent_record(detail, phone) for detail in details], int(answer.get("TotalCount") or 0)
        except (AttributeError, TypeError, ValueError) as exc:
            raise QueryFailed(f"unreadable answer: {str(answer)[:200]}") from exc

    def _result(self, response: httpx.Response) -> SendResult:
        failure = status_failure(response)
        if failure is not None:
            return failure
        try:
            body: Any = response.json()
            code = str(body["Code"])
        except (ValueError, KeyError, TypeError):
            return _unreadable(response)
        biz_id = body.get("BizId")
        return result_for_code(code, str(body.get("Message", "")), str(biz_id) if biz_id else None)


def _send_dates(sent_from: datetime, sent_until: datetime) -> list[date]:
    first, last = (instant.astimezone(SEND_DATE_ZONE).date() for instant in (sent_from, sent_until))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _sent_record(detail: Mapping[str, Any], phone: str) -> SentRecord:
    """A ``SmsSendDetailDTO``: ``SendStatus`` 1 waiting for the report, 2 failed, 3 delivered."""
    return SentRecord(
        correlation_id=str(detail.get("OutId") or ""),
        phone=phone,  # the one asked about: the query answers for a single number
        state=_SEND_STATES.get(int(detail.get("SendStatus") or 1), ReportState.waiting),
        error_code=str(detail.get("ErrCode") or "") or None,
    )


def _unreadable(response: httpx.Response) -> SendResult:
    # A success status with a body we cannot read may still mean the message was accepted.
    if response.is_success:
        return SendResult.unknown("unreadable_response", response.text[:200])
    return SendResult.permanent(f"http_{response.status_code}", response.text[:200])
