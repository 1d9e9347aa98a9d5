from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from coordinator.clock import FixedClock
from coordinator.notify.channels.base import OutboundMessage, QueryFailed, ReportState, SendOutcome
from coordinator.notify.channels.sms_aliyun import AliyunSmsChannel
from tests.notify.fake_server import unused_port
from tests.notify.fake_sms import FakeAliyun, Scripted

PHONE = "+8613812345678"


def reminder(notification_id: int = 41, **params: str) -> OutboundMessage:
    return OutboundMessage(
        notification_id=notification_id,
        channel="sms",
        recipient=PHONE,
        template_key="reminder",
        params=params or {"title": "重阳节敬老活动", "time": "10月29日 09:00"},
    )


def channel(http: httpx.AsyncClient, clock: FixedClock, url: str, fake: FakeAliyun) -> AliyunSmsChannel:
    return AliyunSmsChannel(
        http=http,
        clock=clock,
        access_key_id=fake.access_key_id,
        access_key_secret=SecretStr(fake.secret),
        sign_name="凯里社工站",
        template_codes={"reminder": "SMS_100001"},
        endpoint=url,
    )


async def test_send_is_signed_and_carries_notification_id_as_out_id(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    result = await channel(http, clock, url, fake).send(reminder(41))

    assert result.outcome is SendOutcome.sent
    assert result.provider_message_id is not None
    assert result.provider_message_id.startswith("biz-")
    [received] = fake.received
    assert received.signature_ok
    params = received.params
    assert params["OutId"] == "41"
    assert params["PhoneNumbers"] == "13812345678"
    assert params["Action"] == "SendSms"
    assert params["Version"] == "2017-05-25"
    assert params["TemplateCode"] == "SMS_100001"
    assert params["SignName"] == "凯里社工站"
    assert json.loads(params["TemplateParam"]) == {"title": "重阳节敬老活动", "time": "10月29日 09:00"}
    assert params["Timestamp"] == "2026-11-29T02:00:00Z"


async def test_wrong_secret_is_rejected_by_the_signature_check(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    wrong = FakeAliyun(access_key_id=fake.access_key_id, secret="not-the-secret")
    result = await channel(http, clock, url, wrong).send(reminder())

    assert result.outcome is SendOutcome.permanent_failure
    assert result.error_code == "SignatureDoesNotMatch"
    assert not fake.received[0].signature_ok


async def test_each_request_uses_a_fresh_nonce(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    sms = channel(http, clock, url, fake)
    first, second = await sms.send(reminder(1)), await sms.send(reminder(2))
    assert (first.outcome, second.outcome) == (SendOutcome.sent, SendOutcome.sent)


@pytest.mark.parametrize(
    ("code", "message", "outcome", "retry_after"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5", SendOutcome.throttled, 3600.0),
        ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", SendOutcome.throttled, 60.0),
        ("isv.DAY_LIMIT_CONTROL", "", SendOutcome.throttled, 86400.0),
        ("isv.MONTH_LIMIT_CONTROL", "", SendOutcome.throttled, 86400.0),
        ("isv.MOBILE_NUMBER_ILLEGAL", "", SendOutcome.permanent_failure, None),
        ("isv.TEMPLATE_MISSING_PARAMETERS", "", SendOutcome.permanent_failure, None),
        ("isv.INVALID_JSON_PARAM", "", SendOutcome.permanent_failure, None),
        ("isv.BLACK_KEY_CONTROL_LIMIT", "", SendOutcome.permanent_failure, None),
        ("isv.AMOUNT_NOT_ENOUGH", "", SendOutcome.permanent_failure, None),
        ("isv.OUT_OF_SERVICE", "", SendOutcome.permanent_failure, None),
        ("isp.SYSTEM_ERROR", "", SendOutcome.unknown, None),
    ],
)
async def test_provider_codes_map_to_outcomes(
    http: httpx.AsyncClient,
    clock: FixedClock,
    aliyun: tuple[FakeAliyun, str],
    code: str,
    message: str,
    outcome: SendOutcome,
    retry_after: float | None,
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(code=code, message=message))
    result = await channel(http, clock, url, fake).send(reminder())

    assert result.outcome is outcome
    assert result.error_code == code
    assert result.retry_after == retry_after


async def test_server_error_is_unknown_never_retryable(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(status=502))
    result = await channel(http, clock, url, fake).send(reminder())
    assert result.outcome is SendOutcome.unknown
    assert result.error_code == "http_502"


async def test_timeout_after_the_request_left_is_unknown(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(delay=5.0))
    result = await channel(http, clock, url, fake).send(reminder())

    assert result.outcome is SendOutcome.unknown
    assert result.error_code == "transport_error"
    assert len(fake.received) == 1  # it did reach the provider


async def test_refused_connection_is_retryable(http: httpx.AsyncClient, clock: FixedClock) -> None:
    fake = FakeAliyun()
    result = await channel(http, clock, f"http://127.0.0.1:{unused_port()}", fake).send(reminder())
    assert result.outcome is SendOutcome.throttled
    assert result.error_code == "connect_failed"
    assert result.retry_after is not None
    assert result.retry_after > 0


async def test_unconfigured_template_fails_without_calling_the_provider(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    message = OutboundMessage(notification_id=1, channel="sms", recipient=PHONE, template_key="otp")
    result = await channel(http, clock, url, fake).send(message)
    assert result.outcome is SendOutcome.permanent_failure
    assert result.error_code == "template_not_configured"
    assert fake.received == []


async def test_provider_message_never_exposes_the_phone(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(code="isv.MOBILE_NUMBER_ILLEGAL", message="非法手机号 13812345678"))
    result = await channel(http, clock, url, fake).send(reminder())
    assert result.error_message is not None
    assert "13812345678" not in result.error_message
    assert "138****5678" in result.error_message


async def test_query_send_details_is_signed_and_reads_each_send_status(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    sms = channel(http, clock, url, fake)
    for n in (41, 42, 43):
        await sms.send(reminder(n))
    fake.messages[0].delivered = True
    fake.messages[1].delivered, fake.messages[1].report_code = False, "MK:0001"

    records = await sms.query_sent(PHONE, clock.now(), clock.now())

    query = fake.received[-1]
    assert query.signature_ok
    # 10:00 in Beijing: the send date Aliyun files it under; the number without +86.
    assert (query.params["Action"], query.params["PhoneNumber"], query.params["SendDate"]) == (
        "QuerySendDetails",
        "13812345678",
        "20261129",
    )
    assert int(query.params["PageSize"]) <= 50
    assert [(r.correlation_id, r.phone, r.state, r.error_code) for r in records] == [
        ("41", PHONE, ReportState.delivered, "DELIVERED"),
        ("42", PHONE, ReportState.failed, "MK:0001"),
        ("43", PHONE, ReportState.waiting, None),
    ]


async def test_query_asks_for_each_beijing_date_the_sends_span(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    evening = datetime(2026, 11, 29, 15, 59, 50, tzinfo=UTC)  # 23:59:50 in Beijing
    await channel(http, clock, url, fake).query_sent(PHONE, evening, evening + timedelta(seconds=30))
    assert [r.params["SendDate"] for r in fake.received] == ["20261129", "20261130"]


async def test_a_query_with_the_wrong_secret_is_refused(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    wrong = FakeAliyun(access_key_id=fake.access_key_id, secret="not-the-secret")
    with pytest.raises(QueryFailed, match="SignatureDoesNotMatch"):
        await channel(http, clock, url, wrong).query_sent(PHONE, clock.now(), clock.now())
    assert not fake.received[0].signature_ok
