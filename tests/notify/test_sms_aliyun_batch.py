"""Aliyun SendBatchSms: many recipients in one signed POST, one answer for all of them."""

from __future__ import annotations

import json

import httpx

from coordinator.clock import FixedClock
from coordinator.notify.channels.base import OutboundMessage, SendOutcome
from tests.notify.fake_sms import FakeAliyun, Scripted
from tests.notify.test_sms_aliyun import channel


def message(n: int, template_key: str = "reminder") -> OutboundMessage:
    return OutboundMessage(
        notification_id=100 + n,
        channel="sms",
        recipient=f"+861381234{n:04d}",
        template_key=template_key,
        params={"name": f"志愿者{n}", "title": "重阳节敬老活动"},
    )


async def test_a_batch_is_one_signed_post_with_the_first_id_as_out_id(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    messages = [message(n) for n in range(3)]
    results = await channel(http, clock, url, fake).send_batch(messages, correlation_id=100)

    [received] = fake.received
    assert received.signature_ok  # the fake recomputes the POST signature from the form body
    params = received.params
    assert (params["Action"], params["TemplateCode"], params["OutId"]) == (
        "SendBatchSms",
        "SMS_100001",
        "100",
    )
    assert json.loads(params["PhoneNumberJson"]) == ["13812340000", "13812340001", "13812340002"]
    assert json.loads(params["SignNameJson"]) == ["凯里社工站"] * 3
    assert [p["name"] for p in json.loads(params["TemplateParamJson"])] == ["志愿者0", "志愿者1", "志愿者2"]
    assert {result.outcome for result in results} == {SendOutcome.sent}
    assert len({result.provider_message_id for result in results}) == 1  # one BizId for the request


async def test_a_refused_batch_is_retried_one_by_one_so_only_the_bad_number_fails(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(
        Scripted(code="isv.MOBILE_NUMBER_ILLEGAL"),  # the batch, refused as a whole
        Scripted(),
        Scripted(code="isv.MOBILE_NUMBER_ILLEGAL"),
        Scripted(),
    )
    results = await channel(http, clock, url, fake).send_batch([message(n) for n in range(3)], 100)

    assert [r.params["Action"] for r in fake.received] == ["SendBatchSms", "SendSms", "SendSms", "SendSms"]
    assert [r.params.get("OutId") for r in fake.received[1:]] == ["100", "101", "102"]
    assert [result.outcome for result in results] == [
        SendOutcome.sent,
        SendOutcome.permanent_failure,
        SendOutcome.sent,
    ]


async def test_a_throttled_batch_is_throttled_for_every_message(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(code="isv.BUSINESS_LIMIT_CONTROL", message="触发分钟级流控Permits:1"))
    results = await channel(http, clock, url, fake).send_batch([message(n) for n in range(2)], 100)

    assert len(fake.received) == 1
    assert [(r.outcome, r.retry_after) for r in results] == [(SendOutcome.throttled, 60.0)] * 2


async def test_a_batch_without_an_answer_is_unknown_for_every_message(
    http: httpx.AsyncClient, clock: FixedClock, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(delay=5.0))
    results = await channel(http, clock, url, fake).send_batch([message(n) for n in range(2)], 100)

    assert len(fake.received) == 1  # it reached the provider: never resent as singles
    assert {result.outcome for result in results} == {SendOutcome.unknown}


def test_urgent_notices_and_codes_go_alone_and_others_share_by_template(
    http: httpx.AsyncClient, clock: FixedClock
) -> None:
    sms = channel(http, clock, "http://127.0.0.1:9", FakeAliyun())
    assert sms.batch_key(message(0)) == sms.batch_key(message(1)) == "SMS_100001"
    assert sms.batch_key(message(0, "cancelled")) is None
    assert sms.batch_key(message(0, "otp")) is None
    assert sms.batch_key(message(0, "changed")) is None  # no template configured: sent alone, and refused
