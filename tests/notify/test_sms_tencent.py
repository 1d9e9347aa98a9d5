from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from coordinator.clock import FixedClock
from coordinator.notify.channels.base import OutboundMessage, QueryFailed, ReportState, SendOutcome
from coordinator.notify.channels.sms_tencent import TencentSmsChannel
from tests.notify.fake_server import unused_port
from tests.notify.fake_sms import FakeTencent, Scripted

PHONE = "+8613812345678"


def reminder(notification_id: int = 52) -> OutboundMessage:
    return OutboundMessage(
        notification_id=notification_id,
        channel="sms",
        recipient=PHONE,
        template_key="reminder",
        params={"time": "10月29日 09:00", "title": "重阳节敬老活动"},
    )


def channel(http: httpx.AsyncClient, clock: FixedClock, url: str, fake: FakeTencent) -> TencentSmsChannel:
    return TencentSmsChannel(
        http=http,
        clock=clock,
        secret_id=fake.secret_id,
        secret_key=SecretStr(fake.secret_key),
        sdk_app_id="1400000001",
        sign_name="凯里社工站",
        template_ids={"reminder": "2000001"},
        template_param_names={"reminder": ["title", "time"]},
        endpoint=url,
    )


async def test_send_is_signed_and_carries_notification_id_as_session_context(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    result = await channel(http, clock, url, fake).send(reminder(52))

    assert result.outcome is SendOutcome.sent
    assert result.provider_message_id is not None
    assert result.provider_message_id.startswith("serial-")
    [received] = fake.received
    assert received.signature_ok
    assert received.params["SessionContext"] == "52"
    assert received.params["PhoneNumberSet"] == [PHONE]
    # Positional template parameters in the configured order, not the message's.
    assert received.params["TemplateParamSet"] == ["重阳节敬老活动", "10月29日 09:00"]
    assert received.headers["host"] == url.removeprefix("http://")
    assert received.headers["x-tc-timestamp"] == str(int(clock.now().timestamp()))


async def test_wrong_key_is_rejected_by_the_signature_check(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    wrong = FakeTencent(secret_id=fake.secret_id, secret_key="not-the-key")
    result = await channel(http, clock, url, wrong).send(reminder())

    assert result.outcome is SendOutcome.permanent_failure
    assert result.error_code == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    ("code", "outcome", "retry_after"),
    [
        ("LimitExceeded.PhoneNumberThirtySecondLimit", SendOutcome.throttled, 30.0),
        ("LimitExceeded.PhoneNumberOneHourLimit", SendOutcome.throttled, 3600.0),
        ("LimitExceeded.PhoneNumberDailyLimit", SendOutcome.throttled, 86400.0),
        ("LimitExceeded.DeliveryFrequencyLimit", SendOutcome.throttled, 60.0),
        ("InvalidParameterValue.IncorrectPhoneNumber", SendOutcome.permanent_failure, None),
        ("FailedOperation.PhoneNumberInBlacklist", SendOutcome.permanent_failure, None),
        ("FailedOperation.InsufficientBalanceInSmsPackage", SendOutcome.permanent_failure, None),
        ("InternalError.Timeout", SendOutcome.unknown, None),
    ],
)
async def test_per_number_status_codes_map_to_outcomes(
    http: httpx.AsyncClient,
    clock: FixedClock,
    tencent: tuple[FakeTencent, str],
    code: str,
    outcome: SendOutcome,
    retry_after: float | None,
) -> None:
    fake, url = tencent
    fake.answer_next(Scripted(code=code))
    result = await channel(http, clock, url, fake).send(reminder())

    assert result.outcome is outcome
    assert result.error_code == code
    assert result.retry_after == retry_after


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("RequestLimitExceeded", SendOutcome.throttled),
        ("InternalError.Timeout", SendOutcome.unknown),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", SendOutcome.permanent_failure),
    ],
)
async def test_request_level_errors_map_to_outcomes(
    http: httpx.AsyncClient,
    clock: FixedClock,
    tencent: tuple[FakeTencent, str],
    code: str,
    outcome: SendOutcome,
) -> None:
    fake, url = tencent
    fake.answer_next(Scripted(code=code, message="request"))
    result = await channel(http, clock, url, fake).send(reminder())
    assert (result.outcome, result.error_code) == (outcome, code)


async def test_server_error_is_unknown(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    fake.answer_next(Scripted(status=503))
    result = await channel(http, clock, url, fake).send(reminder())
    assert (result.outcome, result.error_code) == (SendOutcome.unknown, "http_503")


async def test_timeout_after_the_request_left_is_unknown(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    fake.answer_next(Scripted(delay=5.0))
    result = await channel(http, clock, url, fake).send(reminder())
    assert result.outcome is SendOutcome.unknown
    assert len(fake.received) == 1


async def test_refused_connection_is_retryable(http: httpx.AsyncClient, clock: FixedClock) -> None:
    result = await channel(http, clock, f"http://127.0.0.1:{unused_port()}", FakeTencent()).send(reminder())
    assert (result.outcome, result.error_code) == (SendOutcome.throttled, "connect_failed")


async def test_pulled_status_reports_are_signed_and_name_the_session_context(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    sms = channel(http, clock, url, fake)
    for n in (52, 53, 54):
        await sms.send(reminder(n))
    fake.messages[0].delivered = True
    fake.messages[1].delivered, fake.messages[1].report_code = False, "MN:0001"
    clock.set(clock.now() + timedelta(minutes=5))

    records = await sms.query_sent(PHONE, clock.now() - timedelta(minutes=5), clock.now())

    pull = fake.received[-1]
    assert pull.signature_ok
    assert pull.headers["x-tc-action"] == "PullSmsSendStatusByPhoneNumber"
    assert (pull.params["PhoneNumber"], pull.params["Offset"], pull.params["Limit"]) == (PHONE, 0, 100)
    assert pull.params["EndTime"] == int(clock.now().timestamp())  # reports come after the send
    # Only reported messages are listed: the third has none yet.
    assert [(r.correlation_id, r.state, r.error_code, r.provider_message_id) for r in records] == [
        ("52", ReportState.delivered, "DELIVRD", fake.messages[0].provider_message_id),
        ("53", ReportState.failed, "MN:0001", fake.messages[1].provider_message_id),
    ]


async def test_a_pull_with_the_wrong_key_is_refused(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    wrong = FakeTencent(secret_id=fake.secret_id, secret_key="not-the-key")
    with pytest.raises(QueryFailed, match=r"AuthFailure\.SignatureFailure"):
        await channel(http, clock, url, wrong).query_sent(PHONE, clock.now(), clock.now())
