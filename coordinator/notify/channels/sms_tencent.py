"""Tencent Cloud SMS (``SendSms`` and ``PullSmsSendStatusByPhoneNumber``, version 2021-01-11),
signed with TC3-HMAC-SHA256.

``SessionContext`` carries the notification id (for several numbers in one request, the
``batch_id`` of their rows) and comes back in the status callback and the pulled status reports.
One request takes up to 200 numbers with one text, so messages with equal parameters share it.
The request can succeed while single numbers fail, so each number's status decides.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

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
    SendResult,
    SentRecord,
    compact_json,
    status_failure,
    transport_failure,
)

API_VERSION = "2021-01-11"
SERVICE = "sms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"
PULL_LIMIT = 100  # PullSmsSendStatusByPhoneNumber answers at most 100 reports (Offset stays 0)
# Reports are pulled from a little before the send: the two clocks need not agree to the second.
PULL_MARGIN = timedelta(minutes=1)

# Seconds until the window named by the error code has passed.
THROTTLE_WINDOWS = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3_600.0,
    "LimitExceeded.PhoneNumberDailyLimit": 86_400.0,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": 86_400.0,
    "LimitExceeded.AppDailyLimit": 86_400.0,
    "LimitExceeded.DeliveryFrequencyLimit": 60.0,
}


def canonical_request(*, host: str, payload: bytes) -> str:
    return "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host.lower()}\n",
            SIGNED_HEADERS,
            hashlib.sha256(payload).hexdigest(),
        ]
    )


def credential_scope(timestamp: int, service: str = SERVICE) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return f"{date}/{service}/tc3_request"


def string_to_sign(*, timestamp: int, canonical: str, service: str = SERVICE) -> str:
    hashed = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{credential_scope(timestamp, service)}\n{hashed}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_signature(*, secret_key: str, timestamp: int, to_sign: str, service: str = SERVICE) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


def authorization(
    *, secret_id: str, secret_key: str, host: str, timestamp: int, payload: bytes, service: str = SERVICE
) -> str:
    to_sign = string_to_sign(
        timestamp=timestamp, canonical=canonical_request(host=host, payload=payload), service=service
    )
    signed = tc3_signature(secret_key=secret_key, timestamp=timestamp, to_sign=to_sign, service=service)
    return (
        f"{ALGORITHM} Credential={secret_id}/{credential_scope(timestamp, service)}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signed}"
    )


def result_for_code(code: str, message: str, serial_no: str | None) -> SendResult:
    if code == "Ok":
        return SendResult.sent(serial_no)
    if code in THROTTLE_WINDOWS:
        return SendResult.throttled(code, message, retry_after=THROTTLE_WINDOWS[code])
    if code.startswith(("LimitExceeded.", "RequestLimitExceeded")):
        return SendResult.throttled(code, message, retry_after=DEFAULT_RETRY_AFTER)
    if code.startswith("InternalError"):
        # e.g. InternalError.Timeout: Tencent's backend did not answer in time and may have sent it.
        return SendResult.unknown(code, message)
    # IncorrectPhoneNumber, PhoneNumberInBlacklist, InsufficientBalance…, AuthFailure.*, bad template.
    return SendResult.permanent(code, message)


def template_params(params: Mapping[str, str], order: Sequence[str] | None) -> list[str]:
    if order is None:
        return list(params.values())
    return [params.get(name, "") for name in order]


class TencentSmsChannel(BatchingChannel, QueryingChannel):
    name: ClassVar[str] = "sms_tencent"
    max_batch: ClassVar[int] = 200  # SendSms takes at most 200 numbers
    lists_accepted: ClassVar[bool] = False  # the pull answers delivery reports only
    receipt_before_answer: ClassVar[bool] = True  # the receipt names only the SerialNo
    query_days: ClassVar[int] = 7

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        secret_id: str,
        secret_key: SecretStr,
        sdk_app_id: str,
        sign_name: str,
        template_ids: Mapping[str, str],
        template_param_names: Mapping[str, Sequence[str]] | None = None,
        region: str = "ap-guangzhou",
        endpoint: str = "https://sms.tencentcloudapi.com",
    ) -> None:
        self._http = http
        self._clock = clock
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._sdk_app_id = sdk_app_id
        self._sign_name = sign_name
        self._template_ids = dict(template_ids)
        self._param_names = dict(template_param_names or {})
        self._region = region
        self._endpoint = endpoint.rstrip("/")
        # The signed host must be the Host header actually sent: take it from the endpoint.
        self._host = httpx.URL(self._endpoint).netloc.decode("ascii")

    def request_body(
        self, messages: Sequence[OutboundMessage], template_id: str, session_context: int
    ) -> bytes:
        """One SendSms for ``messages``: their numbers, and the parameters they all share."""
        body = {
            "PhoneNumberSet": [message.recipient for message in messages],
            "SmsSdkAppId": self._sdk_app_id,
            "SignName": self._sign_name,
            "TemplateId": template_id,
            "TemplateParamSet": self._template_params(messages[0]),
            "SessionContext": str(session_context),
        }
        return compact_json(body).encode()

    def _template_params(self, message: OutboundMessage) -> list[str]:
        return template_params(message.params, self._param_names.get(message.template_key))

    def headers(self, payload: bytes, action: str = "SendSms") -> dict[str, str]:
        timestamp = int(self._clock.now().timestamp())
        return {
            "Authorization": authorization(
                secret_id=self._secret_id,
                secret_key=self._secret_key.get_secret_value(),
                host=self._host,
                timestamp=timestamp,
                payload=payload,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": action,
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self._region,
        }

    async def send(self, message: OutboundMessage) -> SendResult:
        template_id = self._template_ids.get(message.template_key)
        if template_id is None:
            return SendResult.permanent("template_not_configured", message.template_key)
        [result] = await self._send([message], template_id, message.notification_id)
        return result

    def batch_key(self, message: OutboundMessage) -> str | None:
        """One request carries one text: only messages whose parameters are equal share it (a
        reminder names the activity, its time, place and organizer, not the volunteer)."""
        template_id = self._template_ids.get(message.template_key)
        if message.template_key in SEND_ALONE or template_id is None:
            return None
        return compact_json([template_id, self._template_params(message)])

    async def send_batch(self, messages: Sequence[OutboundMessage], correlation_id: int) -> list[SendResult]:
        """Up to 200 numbers in one SendSms; each number's status in the answer is its result."""
        return await self._send(messages, self._template_ids[messages[0].template_key], correlation_id)

    async def _send(
        self, messages: Sequence[OutboundMessage], template_id: str, session_context: int
    ) -> list[SendResult]:
        payload = self.request_body(messages, template_id, session_context)
        try:
            response = await self._http.post(
                f"{self._endpoint}/", content=payload, headers=self.headers(payload)
            )
        except httpx.TransportError as exc:
            return [transport_failure(exc)] * len(messages)
        return _results(response, [message.recipient for message in messages])

    async def query_sent(self, phone: str, sent_from: datetime, sent_until: datetime) -> list[SentRecord]:
        """The status reports for ``phone`` since the first send: a report can come long after
        the request, so the pull runs up to now. Messages without a report yet are not listed."""
        body = {
            "PhoneNumber": phone,
            "SmsSdkAppId": self._sdk_app_id,
            "BeginTime": int((sent_from - PULL_MARGIN).timestamp()),
            "EndTime": int(self._clock.now().timestamp()),
            "Offset": 0,
            "Limit": PULL_LIMIT,
        }
        payload = compact_json(body).encode()
        headers = self.headers(payload, "PullSmsSendStatusByPhoneNumber")
        try:
            response = await self._http.post(f"{self._endpoint}/", content=payload, headers=headers)
        except httpx.TransportError as exc:
            raise QueryFailed(type(exc).__name__) from exc
        return _pulled_records(response)


def _pulled_records(response: httpx.Response) -> list[SentRecord]:
    try:
        answer: Any = response.json()["Response"]
        error = answer.get("Error")
        if error is None:
            return [_pulled_record(report) for report in answer["PullSmsSendStatusSet"]]
        refusal = f"{error['Code']}: {error.get('Message', '')}"
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise QueryFailed(f"unreadable answer: {response.text[:200]}") from exc
    raise QueryFailed(refusal)


def _pulled_record(report: Mapping[str, Any]) -> SentRecord:
    delivered = str(report["ReportStatus"]).upper() == "SUCCESS"
    serial_no = report.get("SerialNo")
    return SentRecord(
        correlation_id=str(report.get("SessionContext") or ""),
        phone=str(report["PhoneNumber"]),
        state=ReportState.delivered if delivered else ReportState.failed,
        error_code=str(report.get("Description") or "") or None,
        provider_message_id=str(serial_no) if serial_no else None,
    )


def _results(response: httpx.Response, phones: Sequence[str]) -> list[SendResult]:
    """Each number's outcome: a request-level failure is every number's; otherwise the number's
    own status (the request can succeed while single numbers fail)."""
    failure = status_failure(response)
    if failure is not None:
        return [failure] * len(phones)
    try:
        answer: Any = response.json()["Response"]
        error = answer.get("Error")
        if error is not None:
            return [result_for_code(str(error["Code"]), str(error.get("Message", "")), None)] * len(phones)
        by_phone = {str(status["PhoneNumber"]): status for status in answer["SendStatusSet"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        if response.is_success:
            return [SendResult.unknown("unreadable_response", response.text[:200])] * len(phones)
        return [SendResult.permanent(f"http_{response.status_code}", response.text[:200])] * len(phones)
    return [_number_result(by_phone.get(phone)) for phone in phones]


def _number_result(status: Mapping[str, Any] | None) -> SendResult:
    if status is None:  # accepted as a request, but this number's fate not said: it may have gone
        return SendResult.unknown("no_status_for_number")
    serial_no = status.get("SerialNo")
    return result_for_code(
        str(status.get("Code", "")), str(status.get("Message", "")), str(serial_no) if serial_no else None
    )
