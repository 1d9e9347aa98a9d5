"""Local stand-ins for Aliyun and Tencent Cloud SMS that check signatures the way the providers do.

The signature checks are written here from the providers' documentation, independently of the
client code, so a client that signs wrongly is rejected just as the real gateway would. Each fake
keeps the messages it accepted (also those whose answer it then held back past the client's
timeout) and answers the provider's query about them: Aliyun ``QuerySendDetails`` lists every
accepted message, waiting until ``report`` gives it a delivery report; Tencent
``PullSmsSendStatusByPhoneNumber`` lists reported messages only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.notify.fake_server import FakeProvider, json_answer


@dataclass
class Scripted:
    """How to answer the next request: a provider code, a bare HTTP status, or a delay first."""

    code: str | None = None
    message: str = ""
    status: int = 200
    delay: float = 0.0


@dataclass
class Received:
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    signature_ok: bool = False


@dataclass
class FakeMessage:
    """A message the fake accepted, as its query reports it."""

    phone: str  # as the request named it (Aliyun without +86, Tencent E.164)
    correlation_id: str  # Aliyun ``OutId``, Tencent ``SessionContext``
    accepted_at: datetime  # the request's signed time
    provider_message_id: str  # Aliyun BizId, Tencent SerialNo
    template: str = ""
    delivered: bool | None = None  # no delivery report yet
    report_code: str = ""


class _ScriptedProvider(FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.answers: deque[Scripted] = deque()
        self.received: list[Received] = []
        self.messages: list[FakeMessage] = []
        self._ids = itertools.count(1)

    def answer_next(self, *answers: Scripted) -> None:
        self.answers.extend(answers)

    def _next(self) -> Scripted:
        return self.answers.popleft() if self.answers else Scripted()

    def report(self, phone: str, *, delivered: bool, code: str = "") -> None:
        """The carrier's report for every message accepted for ``phone`` (as the request named it)."""
        for message in self.messages:
            if message.phone == phone:
                message.delivered, message.report_code = delivered, code

    def received_actions(self) -> list[str]:
        return [r.params.get("Action") or r.headers.get("x-tc-action", "") for r in self.received]


# --- Aliyun: RPC signature v1 ----------------------------------------------------------------


def _aliyun_encode(value: str) -> str:
    # The documented recipe: URL-encode (UTF-8), then "+" → "%20", "*" → "%2A", "%7E" → "~".
    encoded = urllib.parse.quote_plus(value, encoding="utf-8")
    return encoded.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def aliyun_expected_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    canonical = "&".join(f"{_aliyun_encode(k)}={_aliyun_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&" + _aliyun_encode("/") + "&" + _aliyun_encode(canonical)
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


async def aliyun_params(request: Request) -> dict[str, str]:
    """RPC parameters come in the query (GET) or as a form body (POST), signed alike."""
    if request.method == "POST":
        return dict(urllib.parse.parse_qsl((await request.body()).decode(), keep_blank_values=True))
    return dict(request.query_params)


def aliyun_messages(params: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """(phone, template parameters) of each message a SendSms or SendBatchSms request carries."""
    if params.get("Action") == "SendBatchSms":
        phones = json.loads(params["PhoneNumberJson"])
        return list(zip(phones, json.loads(params["TemplateParamJson"]), strict=True))
    return [(params["PhoneNumbers"], json.loads(params.get("TemplateParam") or "{}"))]


class FakeAliyun(_ScriptedProvider):
    def __init__(self, access_key_id: str = "LTAI-test-id", secret: str = "aliyun-test-secret") -> None:
        super().__init__()
        self.access_key_id = access_key_id
        self.secret = secret
        self._nonces: set[str] = set()

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self.send_sms, methods=["GET", "POST"])])

    def report(self, phone: str, *, delivered: bool, code: str = "") -> None:
        super().report(phone.removeprefix("+86"), delivered=delivered, code=code)

    async def send_sms(self, request: Request) -> Response:
        params = await aliyun_params(request)
        received = Received(params=params)
        self.received.append(received)
        problem = self._check(params, request.method)
        if problem is not None:
            return json_answer({"RequestId": "fake", "Code": problem[0], "Message": problem[1]}, 400)
        received.signature_ok = True
        if params.get("Action") == "QuerySendDetails":
            return self._query_send_details(params)
        scripted = self._next()
        code = scripted.code or "OK"
        body = {"RequestId": f"req-{next(self._ids)}", "Code": code, "Message": scripted.message or code}
        accepted = code == "OK" and scripted.status == 200
        if accepted:
            body["BizId"] = f"biz-{next(self._ids)}"
            self._keep(params, body["BizId"])  # before the pause: a late answer was accepted all the same
        await self.pause(scripted.delay)
        if scripted.code is None and scripted.status != 200:
            return Response("upstream failure", status_code=scripted.status)
        return json_answer(body, scripted.status)

    def _keep(self, params: dict[str, str], biz_id: str) -> None:
        accepted_at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        for phone, _ in aliyun_messages(params):
            self.messages.append(
                FakeMessage(phone, params.get("OutId", ""), accepted_at, biz_id, params["TemplateCode"])
            )

    def _query_send_details(self, params: dict[str, str]) -> Response:
        """Messages to one number on one Beijing send date, a page of at most 50 at a time."""
        page_size, page = int(params.get("PageSize", "0")), int(params.get("CurrentPage", "1"))
        send_date = params.get("SendDate", "")
        if not params.get("PhoneNumber") or not re.fullmatch(r"\d{8}", send_date) or not 1 <= page_size <= 50:
            return json_answer({"RequestId": "fake", "Code": "isv.InvalidParameters", "Message": "bad"}, 400)
        found = [
            message
            for message in self.messages
            if message.phone == params["PhoneNumber"]
            and message.accepted_at.astimezone(BEIJING).strftime("%Y%m%d") == send_date
            and params.get("BizId") in (None, message.provider_message_id)
        ]
        shown = found[(page - 1) * page_size : page * page_size]
        return json_answer(
            {
                "RequestId": f"req-{next(self._ids)}",
                "Code": "OK",
                "Message": "OK",
                "TotalCount": str(len(found)),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": [_aliyun_detail(message) for message in shown]},
            }
        )

    def _check(self, params: dict[str, str], method: str) -> tuple[str, str] | None:
        unsigned = dict(params)
        given = unsigned.pop("Signature", None)
        if unsigned.get("AccessKeyId") != self.access_key_id:
            return "InvalidAccessKeyId.NotFound", "Specified access key is not found."
        if unsigned.get("SignatureMethod") != "HMAC-SHA1" or unsigned.get("SignatureVersion") != "1.0":
            return "InvalidParameter", "SignatureMethod/SignatureVersion"
        if given != aliyun_expected_signature(unsigned, self.secret, method):
            return "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
        nonce = unsigned.get("SignatureNonce", "")
        if nonce in self._nonces:
            return "SignatureNonceUsed", "Specified signature nonce was used already."
        self._nonces.add(nonce)
        return None


BEIJING = ZoneInfo("Asia/Shanghai")


def _aliyun_detail(message: FakeMessage) -> dict[str, Any]:
    sent = message.accepted_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    status = {None: 1, False: 2, True: 3}[message.delivered]
    return {
        "PhoneNum": message.phone,
        "SendStatus": status,
        "ErrCode": message.report_code or ("DELIVERED" if message.delivered else ""),
        "TemplateCode": message.template,
        "Content": "【凯里社工站】您报名的活动明天开始",
        "SendDate": sent,
        "ReceiveDate": sent if message.delivered is not None else "",
        "OutId": message.correlation_id,
    }


# --- Tencent Cloud: TC3-HMAC-SHA256 ----------------------------------------------------------


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tencent_expected_signature(
    *, secret_key: str, content_type: str, host: str, timestamp: int, payload: bytes
) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = (
        "POST\n/\n\n"
        + f"content-type:{content_type}\nhost:{host}\n\n"
        + "content-type;host\n"
        + hashlib.sha256(payload).hexdigest()
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    key = _sign(_sign(_sign(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


PULL_STATUS = "PullSmsSendStatusByPhoneNumber"


def _pull_window(body: dict[str, Any]) -> tuple[int, int, int] | None:
    """(BeginTime, EndTime, Limit) of a valid pull: E.164 number, app id, Offset 0, Limit 1–100."""
    begin, end, limit = body.get("BeginTime"), body.get("EndTime"), body.get("Limit")
    if not (isinstance(begin, int) and isinstance(end, int) and isinstance(limit, int)):
        return None
    numbered = str(body.get("PhoneNumber", "")).startswith("+") and bool(body.get("SmsSdkAppId"))
    if not numbered or body.get("Offset") != 0 or not 1 <= limit <= 100 or begin > end:
        return None
    return begin, end, limit


class FakeTencent(_ScriptedProvider):
    """``Scripted.code`` answers the number's status; ``Scripted.message == "request"`` makes
    it a request-level ``Response.Error`` instead."""

    def __init__(self, secret_id: str = "AKID-test-id", secret_key: str = "tencent-test-key") -> None:
        super().__init__()
        self.secret_id = secret_id
        self.secret_key = secret_key

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self.send_sms, methods=["POST"])])

    async def send_sms(self, request: Request) -> Response:
        payload = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        received = Received(params=json.loads(payload), headers=headers)
        self.received.append(received)
        problem = self._check(headers, payload)
        if problem is not None:
            return json_answer(
                {"Response": {"Error": {"Code": problem, "Message": problem}, "RequestId": "x"}}
            )
        received.signature_ok = True
        if headers["x-tc-action"] == PULL_STATUS:
            return self._pull_status(received.params)
        scripted = self._next()  # the request's answer, and the first number's status
        request_id = f"req-{next(self._ids)}"
        body = received.params
        accepted_at = datetime.fromtimestamp(int(headers["x-tc-timestamp"]), UTC)
        statuses = []
        for n, phone in enumerate(body["PhoneNumberSet"]):
            number = scripted if n == 0 else self._next()  # each further number: the next answer
            status = {
                "SerialNo": f"serial-{next(self._ids)}",
                "PhoneNumber": phone,
                "Fee": 1,
                "SessionContext": body.get("SessionContext", ""),
                "Code": number.code or "Ok",
                "Message": number.message or "send success",
                "IsoCode": "CN",
            }
            statuses.append(status)
            if status["Code"] == "Ok" and scripted.status == 200:  # kept before a held-back answer
                self.messages.append(
                    FakeMessage(phone, status["SessionContext"], accepted_at, status["SerialNo"])
                )
        await self.pause(scripted.delay)
        if scripted.code is None and scripted.status != 200:
            return Response("upstream failure", status_code=scripted.status)
        if scripted.message == "request":
            error = {"Code": scripted.code, "Message": "request failed"}
            return json_answer({"Response": {"Error": error, "RequestId": request_id}})
        return json_answer({"Response": {"SendStatusSet": statuses, "RequestId": request_id}})

    def _pull_status(self, body: dict[str, Any]) -> Response:
        """The status reports of one number sent between BeginTime and EndTime (at most Limit)."""
        window = _pull_window(body)
        if window is None:
            error = {"Code": "InvalidParameterValue", "Message": "bad pull"}
            return json_answer({"Response": {"Error": error, "RequestId": "x"}})
        begin, end, limit = window
        reports = [
            {
                "UserReceiveTime": int(message.accepted_at.timestamp()),
                "CountryCode": "86",
                "SubscriberNumber": message.phone.removeprefix("+86"),
                "PhoneNumber": message.phone,
                "SerialNo": message.provider_message_id,
                "ReportStatus": "SUCCESS" if message.delivered else "FAIL",
                "Description": message.report_code or ("DELIVRD" if message.delivered else "UNDELIV"),
                "SessionContext": message.correlation_id,
            }
            for message in self.messages
            if message.phone == body["PhoneNumber"]
            and message.delivered is not None
            and begin <= message.accepted_at.timestamp() <= end
        ]
        return json_answer({"Response": {"PullSmsSendStatusSet": reports[:limit], "RequestId": "pull"}})

    def _check(self, headers: dict[str, str], payload: bytes) -> str | None:
        action = headers.get("x-tc-action")
        if action not in ("SendSms", PULL_STATUS) or headers.get("x-tc-version") != "2021-01-11":
            return "InvalidAction"
        algorithm, _, rest = headers.get("authorization", "").partition(" ")
        parts = dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if (
            algorithm != "TC3-HMAC-SHA256"
            or parts.get("Credential") != f"{self.secret_id}/{date}/sms/tc3_request"
        ):
            return "AuthFailure.SecretIdNotFound"
        if parts.get("SignedHeaders") != "content-type;host":
            return "AuthFailure.SignatureFailure"
        expected = tencent_expected_signature(
            secret_key=self.secret_key,
            content_type=headers.get("content-type", ""),
            host=headers.get("host", ""),
            timestamp=timestamp,
            payload=payload,
        )
        return None if parts.get("Signature") == expected else "AuthFailure.SignatureFailure"
