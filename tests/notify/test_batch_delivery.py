"""Reminders for many people share provider requests (Aliyun SendBatchSms, Tencent SendSms with
several numbers); receipts still find each person's row, also when the batch's answer never came."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from coordinator.notify.models import Notification
from coordinator.notify.models import NotificationStatus as Status
from coordinator.settings import Settings
from tests.notify.fake_sms import FakeAliyun, FakeTencent, Scripted
from tests.notify.test_receipts import (
    ALIYUN_RECEIPTS,
    TENCENT_RECEIPTS,
    aliyun_receipt,
    aliyun_settings,
    tencent_settings,
    tick,
)
from tests.world import World

pytestmark = pytest.mark.usefixtures("database_url")
PEOPLE = 3


def through_aliyun(settings: Settings, aliyun: tuple[FakeAliyun, str]) -> Settings:
    fake, url = aliyun
    return aliyun_settings(settings, url, fake)


async def remind_everyone(world: World, configured: Settings, http: httpx.AsyncClient) -> list[Notification]:
    """Three people signed up for one activity, one of them also for another three hours later:
    a tick at the later reminder's due time sends all four day-before reminders."""
    first = await world.event()
    second = await world.event(
        title="端午包粽子", starts_in=first.starts_at - world.clock.now() + timedelta(hours=3)
    )
    people = [await world.person(phone=f"+861391234000{n}") for n in range(PEOPLE)]
    for person in people:
        await world.sign_up(first, person)
    await world.sign_up(second, people[0])
    await world.deliver_events()
    rows = await world.notifications(offset="P1D")
    world.clock.set(max(row.due_at for row in rows))
    await tick(world, configured, http)
    return sorted(await world.notifications(offset="P1D"), key=lambda row: row.id)


async def test_due_reminders_share_requests_and_each_phone_once_per_request(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, _ = aliyun
    rows = await remind_everyone(world, through_aliyun(settings, aliyun), http)

    assert [request.params["Action"] for request in fake.received] == ["SendBatchSms", "SendSms"]
    batch, alone = fake.received
    assert batch.signature_ok
    assert alone.signature_ok
    phones = json.loads(batch.params["PhoneNumberJson"])
    assert len(phones) == len(set(phones)) == PEOPLE  # the fourth reminder repeats a phone: alone
    batched = [row for row in rows if row.batch_id is not None]
    assert {row.batch_id for row in batched} == {int(batch.params["OutId"])} == {batched[0].id}
    [single] = [row for row in rows if row.batch_id is None]
    assert alone.params["OutId"] == str(single.id)
    assert {row.status for row in rows} == {Status.sent}
    assert len({row.provider_message_id for row in batched}) == 1  # the request's BizId


async def test_receipts_for_a_batch_each_settle_their_own_row(
    world: World,
    settings: Settings,
    client: httpx.AsyncClient,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
) -> None:
    rows = await remind_everyone(world, through_aliyun(settings, aliyun), http)
    batched = [row for row in rows if row.batch_id is not None]
    failed, delivered = batched[0], batched[1:]

    receipts = aliyun_receipt(failed, success=False) + [r for row in delivered for r in aliyun_receipt(row)]
    answer = await client.post(ALIYUN_RECEIPTS, json=receipts)

    assert answer.status_code == 200
    after = {row.id: row.status for row in await world.notifications(offset="P1D")}
    assert after[failed.id] == Status.failed
    assert all(after[row.id] == Status.delivered for row in delivered)


async def test_a_batch_left_unknown_is_settled_by_out_id_and_phone(
    world: World,
    settings: Settings,
    client: httpx.AsyncClient,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
) -> None:
    fake, _ = aliyun
    fake.answer_next(Scripted(delay=2.0))  # the batch: longer than the client's read timeout
    rows = await remind_everyone(world, through_aliyun(settings, aliyun), http)
    batched = [row for row in rows if row.batch_id is not None]
    assert {(row.status, row.provider_message_id) for row in batched} == {(Status.unknown, None)}

    receipts = [r for row in batched for r in aliyun_receipt(row, biz_id="biz-late")]
    answer = await client.post(ALIYUN_RECEIPTS, json=receipts)

    assert answer.status_code == 200
    resolved = {row.id: row for row in await world.notifications(offset="P1D")}
    assert {(resolved[row.id].status, resolved[row.id].provider_message_id) for row in batched} == {
        (Status.delivered, "biz-late")
    }
    assert [request.params["Action"] for request in fake.received] == [
        "SendBatchSms",
        "SendSms",
    ]  # none resent


async def test_tencent_takes_the_shared_text_once_for_many_numbers_and_each_has_its_serial(
    world: World,
    settings: Settings,
    client: httpx.AsyncClient,
    http: httpx.AsyncClient,
    tencent: tuple[FakeTencent, str],
) -> None:
    fake, url = tencent
    rows = await remind_everyone(world, tencent_settings(settings, url, fake), http)

    # The first activity's three reminders read alike: one request; the other activity's alone.
    assert sorted(len(request.params["PhoneNumberSet"]) for request in fake.received) == [1, PEOPLE]
    assert all(request.signature_ok for request in fake.received)
    batched = [row for row in rows if row.batch_id is not None]
    assert len(batched) == PEOPLE
    assert {row.status for row in rows} == {Status.sent}
    assert len({row.provider_message_id for row in rows}) == len(rows)  # a SerialNo each

    first = batched[1]
    receipt = {
        "sid": first.provider_message_id,
        "mobile": first.payload["recipient"].removeprefix("+86"),
        "nationcode": "86",
        "report_status": "SUCCESS",
        "errmsg": "DELIVRD",
        "ext": str(first.batch_id),
    }
    answer = await client.post(TENCENT_RECEIPTS, json=[receipt])
    assert answer.status_code == 200
    after = {row.id: row.status for row in await world.notifications(offset="P1D")}
    assert [row.id for row in rows if after[row.id] == Status.delivered] == [first.id]
