"""Local stand-ins for Aliyun and Tencent Cloud SMS that check signatures the way the providers do.

The signature checks are written here from the providers' documentation, independently of the
client code, so a client that signs wrongly is rejected just as the real gateway would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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


class _ScriptedProvider(FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.answers: deque[Scripted] = deque()
        self.received: list[Received] = []
        self._ids = itertools.count(1)

    def answer_next(self, *answers: Scripted) -> None:
        self.answers.extend(answers)

    def _next(self) -> Scripted:
        return self.answers.popleft() if self.answers else Scripted()


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

    async def send_sms(self, request: Request) -> Response:
        params = await aliyun_params(request)
        received = Received(params=params)
        self.received.append(received)
        problem = self._check(params, request.method)
        if problem is not None:
            return json_answer({"RequestId": "fake", "Code": problem[0], "Message": problem[1]}, 400)
        received.signature_ok = True
        scripted = self._next()
        await self.pause(scripted.delay)
        if scripted.code is None and scripted.status != 200:
            return Response("upstream failure", status_code=scripted.status)
        code = scripted.code or "OK"
        body = {"RequestId": f"req-{next(self._ids)}", "Code": code, "Message": scripted.message or code}
        if code == "OK":
            body["BizId"] = f"biz-{next(self._ids)}"
        return json_answer(body, scripted.status)

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
        scripted = self._next()
        await self.pause(scripted.delay)
        if scripted.code is None and scripted.status != 200:
            return Response("upstream failure", status_code=scripted.status)
        request_id = f"req-{next(self._ids)}"
        if scripted.message == "request":
            error = {"Code": scripted.code, "Message": "request failed"}
            return json_answer({"Response": {"Error": error, "RequestId": request_id}})
        body = received.params
        status = {
            "SerialNo": f"serial-{next(self._ids)}",
            "PhoneNumber": body["PhoneNumberSet"][0],
            "Fee": 1,
            "SessionContext": body.get("SessionContext", ""),
            "Code": scripted.code or "Ok",
            "Message": scripted.message or "send success",
            "IsoCode": "CN",
        }
        return json_answer({"Response": {"SendStatusSet": [status], "RequestId": request_id}})

    def _check(self, headers: dict[str, str], payload: bytes) -> str | None:
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
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
