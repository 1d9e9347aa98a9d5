"""Delivery receipts (Aliyun and Tencent formats, repeated pushes), end to end through a fake
Aliyun gateway, and the staff's list of notifications."""

from __future__ import annotations

import random

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, update

from coordinator.auth.models import Role
from coordinator.db import transaction
from coordinator.notify.callbacks import MAX_PUSHED_ITEMS
from coordinator.notify.channels import build_channels
from coordinator.notify.confirmations.models import SmsReply
from coordinator.notify.dispatcher import dispatch_due
from coordinator.notify.models import DeliveryReceipt, Notification
from coordinator.notify.models import NotificationStatus as Status
from coordinator.settings import Settings
from tests.conftest import RECEIPT_TOKEN
from tests.factories import auth_headers, create_station, create_user
from tests.notify.fake_sms import FakeAliyun, FakeTencent, Scripted
from tests.notify.scripted import add_due
from tests.world import World

pytestmark = pytest.mark.usefixtures("database_url")
ALIYUN_RECEIPTS = f"/api/v1/notify/receipts/aliyun?token={RECEIPT_TOKEN}"
TENCENT_RECEIPTS = f"/api/v1/notify/receipts/tencent?token={RECEIPT_TOKEN}"
ALIYUN_REPLIES = f"/api/v1/notify/replies/aliyun?token={RECEIPT_TOKEN}"


def aliyun_settings(settings: Settings, url: str, fake: FakeAliyun) -> Settings:
    return settings.model_copy(
        update={
            "sms_provider": "aliyun",
            "aliyun_access_key_id": fake.access_key_id,
            "aliyun_access_key_secret": SecretStr(fake.secret),
            "aliyun_sms_sign_name": "凯里社工站",
            "aliyun_sms_endpoint": url,
            "aliyun_sms_template_codes": {"reminder": "SMS_100001"},
        }
    )


def tencent_settings(settings: Settings, url: str, fake: FakeTencent) -> Settings:
    return settings.model_copy(
        update={
            "sms_provider": "tencent",
            "tencent_secret_id": fake.secret_id,
            "tencent_secret_key": SecretStr(fake.secret_key),
            "tencent_sms_sdk_app_id": "1400000001",
            "tencent_sms_sign_name": "凯里社工站",
            "tencent_sms_endpoint": url,
            "tencent_sms_template_ids": {"reminder": "2000001"},
        }
    )


async def send_through_aliyun(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> Notification:
    event = await world.event()
    await world.sign_up(event, await world.person())
    await world.deliver_events()
    [row] = await world.notifications(event_id=event.id, offset="P1D")
    world.clock.set(row.due_at)
    await tick_through_aliyun(world, settings, http, aliyun)
    [after] = await world.notifications(id=row.id)
    return after


async def tick_through_aliyun(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> None:
    """One dispatcher tick with the real Aliyun channel pointed at the fake."""
    fake, url = aliyun
    await tick(world, aliyun_settings(settings, url, fake), http)


async def tick(world: World, configured: Settings, http: httpx.AsyncClient) -> None:
    """One dispatcher tick with the channels ``configured`` names."""
    channels = build_channels(configured, http, world.sessionmaker, clock=world.clock)
    await dispatch_due(
        sessionmaker=world.sessionmaker,
        clock=world.clock,
        settings=configured,
        channels=channels,
        rng=random.Random(1),
    )


def aliyun_receipt(
    row: Notification, *, success: bool = True, biz_id: str | None = None
) -> list[dict[str, object]]:
    return [
        {
            "phone_number": row.payload["recipient"].removeprefix("+86"),
            "send_time": "2026-12-05 10:00:00",
            "report_time": "2026-12-05 10:00:04",
            "success": success,
            "err_code": "DELIVERED" if success else "MK:0001",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": biz_id or row.provider_message_id,
            "out_id": str(row.batch_id or row.id),  # the OutId it went with
        }
    ]


async def test_an_aliyun_receipt_marks_the_message_delivered_once(
    world: World,
    settings: Settings,
    client: httpx.AsyncClient,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
) -> None:
    fake, _ = aliyun
    row = await send_through_aliyun(world, settings, http, aliyun)
    [request] = fake.received
    assert request.signature_ok
    assert request.params["OutId"] == str(row.id)
    assert row.status == Status.sent
    assert row.provider == "sms_aliyun"
    assert row.provider_message_id
    assert row.provider_message_id.startswith("biz-")

    for _ in range(2):  # Aliyun repeats a receipt until it is answered; repeats change nothing
        answer = await client.post(ALIYUN_RECEIPTS, json=aliyun_receipt(row))
        assert answer.status_code == 200
        assert answer.json() == {"code": 0, "msg": "成功"}

    [delivered] = await world.notifications(id=row.id)
    assert delivered.status == Status.delivered
    assert delivered.delivered_at == world.clock.now()
    async with world.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryReceipt)) == 1


async def test_a_receipt_resolves_a_send_left_unknown_by_a_timeout(
    world: World,
    settings: Settings,
    client: httpx.AsyncClient,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
) -> None:
    fake, _ = aliyun
    fake.answer_next(Scripted(delay=2.0))  # longer than the client's read timeout
    row = await send_through_aliyun(world, settings, http, aliyun)
    assert row.status == Status.unknown
    assert row.provider_message_id is None

    answer = await client.post(ALIYUN_RECEIPTS, json=aliyun_receipt(row, biz_id="biz-late"))
    assert answer.status_code == 200
    [resolved] = await world.notifications(id=row.id)
    assert (resolved.status, resolved.provider_message_id) == (Status.delivered, "biz-late")
    assert len(fake.received) == 1  # never resent


async def test_a_failed_tencent_receipt_fails_the_message_and_falls_back(
    world: World, client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    person = await world.person(email="li@example.cn", consent_email=True)
    now = world.clock.now()
    async with transaction(world.sessionmaker) as session:
        await add_due(
            session, person, key="r:1", due=now, deadline=now.replace(year=2027), fallback=["email"]
        )
        await session.execute(
            update(Notification).values(status="sent", provider="sms_tencent", provider_message_id="sid-1")
        )
    body = [
        {
            "user_receive_time": "2026-11-29 10:00:09",
            "nationcode": "86",
            "mobile": person.phone.removeprefix("+86"),
            "report_status": "FAIL",
            "errmsg": "MN:0001",
            "description": "空号",
            "sid": "sid-1",
        }
    ]
    for _ in range(2):
        answer = await client.post(TENCENT_RECEIPTS, json=body)
        assert answer.status_code == 200
        assert answer.json() == {"result": 0, "errmsg": "OK"}

    [failed, fallback] = await world.notifications(plan_key="r:1")
    assert (failed.status, failed.last_error) == (Status.failed, "receipt: MN:0001")
    assert (fallback.channel, fallback.status, fallback.payload["recipient"]) == (
        "email",
        Status.pending,
        "li@example.cn",
    )


async def test_a_malformed_receipt_is_refused_and_stores_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    answer = await client.post(TENCENT_RECEIPTS, json=[{"mobile": "13812340000"}])
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_receipt"
    async with world.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryReceipt)) == 0


_RECEIPT = {"biz_id": "800", "phone_number": "13812340000", "success": True, "err_code": "DELIVERED"}
_REPLY = {"phone_number": "13812340000", "content": "0", "sequence_id": 1}


@pytest.mark.parametrize(
    ("path", "item", "code"),
    [
        (ALIYUN_RECEIPTS, {**_RECEIPT, "biz_id": "8" * 300}, "invalid_receipt"),
        (ALIYUN_RECEIPTS, {**_RECEIPT, "phone_number": "1" * 300}, "invalid_receipt"),
        (ALIYUN_RECEIPTS, {**_RECEIPT, "err_code": "E" * 300}, "invalid_receipt"),
        (ALIYUN_REPLIES, {**_REPLY, "sequence_id": "9" * 300}, "invalid_reply"),
    ],
    ids=["message-id", "phone", "error-code", "reply-key"],
)
async def test_a_pushed_value_longer_than_its_column_is_refused_and_stores_nothing(
    world: World, client: httpx.AsyncClient, path: str, item: dict[str, object], code: str
) -> None:
    answer = await client.post(path, json=[item])
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, code)
    assert await world.count(DeliveryReceipt) == 0
    assert await world.count(SmsReply) == 0


@pytest.mark.parametrize("path", [ALIYUN_RECEIPTS, TENCENT_RECEIPTS, ALIYUN_REPLIES])
async def test_a_push_of_more_items_than_any_provider_sends_is_refused_whole(
    world: World, client: httpx.AsyncClient, path: str
) -> None:
    item = {"biz_id": "1", "phone_number": "13812340000", "sequence_id": 1, "sid": "1", "mobile": "1"}
    answer = await client.post(path, json=[item] * (MAX_PUSHED_ITEMS + 1))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_error"
    assert await world.count(DeliveryReceipt) == 0
    assert await world.count(SmsReply) == 0


async def test_staff_list_notifications_of_their_stations_only(
    world: World, app: FastAPI, client: httpx.AsyncClient
) -> None:
    event = await world.event()
    person = await world.person()
    await world.sign_up(event, person)
    await world.deliver_events()
    async with transaction(world.sessionmaker) as session:
        other = await create_station(session, world.clock)
        mine = await create_user(session, world.clock, Role.organizer, [world.station])
        theirs = await create_user(session, world.clock, Role.organizer, [other])
        volunteer = await create_user(session, world.clock, Role.volunteer, [world.station])

    answer = await client.get(
        "/api/v1/notifications",
        params={"event": event.id, "status": "pending"},
        headers=auth_headers(app, mine),
    )
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [(i["reason"], i["offset"], i["channel"]) for i in items] == [
        ("reminder", "P1D", "sms"),
        ("reminder", "PT2H", "sms"),
    ]
    assert items[0]["recipient"].count("*") == 4
    assert person.phone not in answer.text
    assert "payload" not in items[0]

    hidden = await client.get(
        "/api/v1/notifications", params={"event": event.id}, headers=auth_headers(app, theirs)
    )
    assert hidden.status_code == 404
    unfiltered = await client.get("/api/v1/notifications", headers=auth_headers(app, theirs))
    assert unfiltered.json()["items"] == []
    forbidden = await client.get("/api/v1/notifications", headers=auth_headers(app, volunteer))
    assert forbidden.status_code == 403
