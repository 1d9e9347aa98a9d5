"""SMS left ``unknown`` are settled by asking the provider (Aliyun QuerySendDetails, Tencent
PullSmsSendStatusByPhoneNumber) through the fake gateways, never by sending blindly again."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from coordinator.db import transaction
from coordinator.notify.channels import build_channels
from coordinator.notify.dispatcher import dispatch_due
from coordinator.notify.metrics import REGISTRY
from coordinator.notify.models import DeliveryReceipt
from coordinator.notify.models import NotificationStatus as Status
from coordinator.notify.receipts import ALIYUN, TENCENT
from coordinator.notify.resolution import NEVER_ACCEPTED, resolve_unknown
from coordinator.settings import Settings
from tests.notify.fake_sms import FakeAliyun, FakeTencent, Scripted
from tests.notify.scripted import add_due
from tests.notify.test_batch_delivery import remind_everyone, through_aliyun
from tests.notify.test_receipts import (
    aliyun_settings,
    send_through_aliyun,
    tencent_settings,
    tick_through_aliyun,
)
from tests.world import World

pytestmark = pytest.mark.usefixtures("database_url")
SENDS = ("SendSms", "SendBatchSms")
# Past the default "never reached the provider" point: an hour after the request could have left.
LONG_AFTER = timedelta(hours=1, minutes=1)


async def resolve(world: World, configured: Settings, http: httpx.AsyncClient) -> int:
    """One resolver tick with the configured provider's real channel."""
    channels = build_channels(configured, http, world.sessionmaker, clock=world.clock)
    return await resolve_unknown(
        sessionmaker=world.sessionmaker, clock=world.clock, settings=configured, channels=channels
    )


async def tick(world: World, configured: Settings, http: httpx.AsyncClient) -> None:
    """One dispatcher tick with the configured provider's real channel."""
    channels = build_channels(configured, http, world.sessionmaker, clock=world.clock)
    await dispatch_due(
        sessionmaker=world.sessionmaker, clock=world.clock, settings=configured, channels=channels
    )


def resolutions(provider: str) -> dict[str, float]:
    """``coordinator_unknown_resolutions_total`` of ``provider``, by result (0 where never counted)."""
    results = ("report", "waiting", "not_listed", "sent_again", "settled_meanwhile", "query_failed")
    return {
        result: REGISTRY.get_sample_value(
            "coordinator_unknown_resolutions_total", {"provider": provider, "result": result}
        )
        or 0.0
        for result in results
    }


def counted_since(before: dict[str, float], provider: str) -> dict[str, float]:
    """The results counted since ``before``, leaving out those that did not move."""
    return {result: n - before[result] for result, n in resolutions(provider).items() if n != before[result]}


def later(world: World, delay: timedelta) -> None:
    world.clock.set(world.clock.now() + delay)


async def test_a_batch_left_unknown_by_a_timeout_is_settled_row_by_row_by_the_query(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(delay=2.0))  # the batch: accepted, but answered after the timeout
    rows = await remind_everyone(world, through_aliyun(settings, aliyun), http)
    batched = [row for row in rows if row.batch_id is not None]
    assert {row.status for row in batched} == {Status.unknown}
    delivered, failed, waiting = (row.payload["recipient"] for row in batched)
    fake.report(delivered, delivered=True)
    fake.report(failed, delivered=False, code="MK:0001")
    sends = fake.received_actions().count("SendBatchSms") + fake.received_actions().count("SendSms")
    configured = aliyun_settings(settings, url, fake)

    later(world, timedelta(minutes=1))
    assert await resolve(world, configured, http) == 0  # too young: its receipt may still come
    later(world, timedelta(minutes=2))
    before = resolutions(ALIYUN)
    assert await resolve(world, configured, http) == len(batched)
    assert counted_since(before, ALIYUN) == {"report": 2, "waiting": 1}

    after = {row.id: row for row in await world.notifications(offset="P1D")}
    assert [after[row.id].status for row in batched] == [Status.delivered, Status.failed, Status.unknown]
    assert after[batched[1].id].last_error == "receipt: MK:0001"
    queries = [r for r in fake.received if r.params["Action"] == "QuerySendDetails"]
    assert len(queries) == len(batched)  # one per phone
    assert all(query.signature_ok for query in queries)

    # The one still waiting for its report is asked again, not resent; its report settles it.
    fake.report(waiting, delivered=True)
    later(world, timedelta(minutes=5))
    assert await resolve(world, configured, http) == 1
    [settled] = await world.notifications(id=batched[2].id)
    assert settled.status == Status.delivered
    assert fake.received_actions().count("SendBatchSms") + fake.received_actions().count("SendSms") == sends
    async with world.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryReceipt)) == len(batched)


async def test_a_message_waiting_for_its_report_stays_unknown_long_after(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(delay=2.0))
    row = await send_through_aliyun(world, settings, http, aliyun)
    assert row.status == Status.unknown

    later(world, LONG_AFTER)
    assert await resolve(world, aliyun_settings(settings, url, fake), http) == 1

    [after] = await world.notifications(id=row.id)
    assert after.status == Status.unknown  # Aliyun has it (SendStatus 1): never sent again
    assert after.next_attempt_at > world.clock.now()  # asked again later
    assert fake.received_actions() == ["SendSms", "QuerySendDetails"]


async def test_a_message_the_provider_never_had_goes_again_once(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(status=502))  # the gateway failed before Aliyun took the message
    row = await send_through_aliyun(world, settings, http, aliyun)
    assert (row.status, fake.messages) == (Status.unknown, [])
    configured = aliyun_settings(settings, url, fake)

    later(world, timedelta(minutes=3))
    before = resolutions(ALIYUN)
    assert await resolve(world, configured, http) == 1
    [young] = await world.notifications(id=row.id)
    assert young.status == Status.unknown  # not listed yet proves nothing so soon
    assert counted_since(before, ALIYUN) == {"not_listed": 1}

    assert row.sent_at is not None
    world.clock.set(row.sent_at + LONG_AFTER)
    before = resolutions(ALIYUN)
    assert await resolve(world, configured, http) == 1
    assert counted_since(before, ALIYUN) == {"sent_again": 1}
    [again] = await world.notifications(id=row.id)
    assert (again.status, again.last_error) == (Status.pending, NEVER_ACCEPTED)
    assert again.next_attempt_at >= world.clock.now()

    world.clock.set(again.next_attempt_at)
    await tick_through_aliyun(world, settings, http, aliyun)
    await tick_through_aliyun(world, settings, http, aliyun)
    [sent] = await world.notifications(id=row.id)
    assert sent.status == Status.sent
    assert fake.received_actions().count("SendSms") == 2  # the lost one, and the one that went
    assert await resolve(world, configured, http) == 0


async def test_a_message_never_had_whose_deadline_passed_expires(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    now = world.clock.now()
    person = await world.person()
    async with transaction(world.sessionmaker) as session:
        await add_due(session, person, key="r:1", due=now, deadline=now + timedelta(minutes=30))
    fake.answer_next(Scripted(status=502))
    await tick_through_aliyun(world, settings, http, aliyun)

    later(world, LONG_AFTER)
    assert await resolve(world, aliyun_settings(settings, url, fake), http) == 1

    [row] = await world.notifications(plan_key="r:1")
    assert row.status == Status.expired
    assert fake.received_actions() == ["SendSms", "QuerySendDetails"]


async def test_a_refused_query_changes_nothing(
    world: World, settings: Settings, http: httpx.AsyncClient, aliyun: tuple[FakeAliyun, str]
) -> None:
    fake, url = aliyun
    fake.answer_next(Scripted(status=502))
    row = await send_through_aliyun(world, settings, http, aliyun)
    wrong_secret = aliyun_settings(settings, url, fake).model_copy(
        update={"aliyun_access_key_secret": SecretStr("not-the-secret")}
    )

    later(world, LONG_AFTER)
    before = resolutions(ALIYUN)
    assert await resolve(world, wrong_secret, http) == 1
    assert counted_since(before, ALIYUN) == {"query_failed": 1}

    [after] = await world.notifications(id=row.id)
    assert after.status == Status.unknown  # no answer is not "never had it"
    assert not fake.received[-1].signature_ok


async def test_a_tencent_status_report_settles_a_send_left_unknown(
    world: World, settings: Settings, http: httpx.AsyncClient, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    configured = tencent_settings(settings, url, fake)
    now = world.clock.now()
    person = await world.person()
    async with transaction(world.sessionmaker) as session:
        await add_due(session, person, key="r:1", due=now)
    fake.answer_next(Scripted(delay=2.0))
    await tick(world, configured, http)
    [row] = await world.notifications(plan_key="r:1")
    assert row.status == Status.unknown
    fake.report(person.phone, delivered=True)

    later(world, timedelta(minutes=3))
    assert await resolve(world, configured, http) == 1

    [after] = await world.notifications(plan_key="r:1")
    assert (after.status, after.provider_message_id) == (
        Status.delivered,
        fake.messages[0].provider_message_id,
    )
    pull = fake.received[-1]
    assert (pull.headers["x-tc-action"], pull.params["PhoneNumber"], pull.signature_ok) == (
        "PullSmsSendStatusByPhoneNumber",
        person.phone,
        True,
    )


async def test_tencent_silence_never_sends_again(
    world: World, settings: Settings, http: httpx.AsyncClient, tencent: tuple[FakeTencent, str]
) -> None:
    fake, url = tencent
    configured = tencent_settings(settings, url, fake)
    now = world.clock.now()
    async with transaction(world.sessionmaker) as session:
        await add_due(session, await world.person(), key="r:1", due=now)
    fake.answer_next(Scripted(status=502))
    await tick(world, configured, http)

    later(world, 2 * LONG_AFTER)
    before = resolutions(TENCENT)
    assert await resolve(world, configured, http) == 1
    assert counted_since(before, TENCENT) == {"not_listed": 1}

    [row] = await world.notifications(plan_key="r:1")
    assert row.status == Status.unknown  # a pull lists reports only: no report proves nothing
    assert [r.headers["x-tc-action"] for r in fake.received] == ["SendSms", "PullSmsSendStatusByPhoneNumber"]
