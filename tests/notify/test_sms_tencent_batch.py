"""Tencent SendSms with several numbers: one text, each number's status its own result."""

from __future__ import annotations

from dataclasses import replace

import httpx

from coordinator.clock import FixedClock
from coordinator.notify.channels.base import OutboundMessage, SendOutcome
from tests.notify.fake_sms import FakeTencent, Scripted
from tests.notify.test_sms_tencent import channel, reminder


def to(n: int) -> OutboundMessage:
    return replace(reminder(200 + n), recipient=f"+861381234{n:04d}")


async def test_numbers_with_one_text_share_a_signed_request_and_each_gets_its_serial(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    results = await channel(http, clock, url, fake).send_batch([to(n) for n in range(3)], correlation_id=200)

    [received] = fake.received
    assert received.signature_ok
    assert received.params["PhoneNumberSet"] == ["+8613812340000", "+8613812340001", "+8613812340002"]
    assert received.params["TemplateParamSet"] == ["重阳节敬老活动", "10月29日 09:00"]
    assert received.params["SessionContext"] == "200"
    assert {result.outcome for result in results} == {SendOutcome.sent}
    assert len({result.provider_message_id for result in results}) == 3  # one SerialNo per number


async def test_a_refused_number_fails_alone(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    fake.answer_next(Scripted(), Scripted(code="FailedOperation.PhoneNumberInBlacklist"), Scripted())
    results = await channel(http, clock, url, fake).send_batch([to(n) for n in range(3)], 200)

    assert len(fake.received) == 1
    assert [result.outcome for result in results] == [
        SendOutcome.sent,
        SendOutcome.permanent_failure,
        SendOutcome.sent,
    ]


async def test_a_request_level_error_is_every_numbers(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    fake.answer_next(Scripted(code="LimitExceeded.AppDailyLimit", message="request"))
    results = await channel(http, clock, url, fake).send_batch([to(n) for n in range(2)], 200)

    assert [(r.outcome, r.retry_after) for r in results] == [(SendOutcome.throttled, 86_400.0)] * 2


def test_only_equal_texts_share_a_request_and_urgent_ones_never(
    http: httpx.AsyncClient, clock: FixedClock, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    sms = channel(http, clock, url, fake)
    other_time = replace(to(1), params={**to(1).params, "time": "10月30日 09:00"})
    assert sms.batch_key(to(0)) == sms.batch_key(to(1)) != sms.batch_key(other_time)
    assert sms.batch_key(replace(to(0), template_key="cancelled")) is None
