"""The dispatcher: due rows are sent once, outside any transaction; throttling backs off,
refusals fall back, deadlines expire, timeouts and lost leases become ``unknown``."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from coordinator.db import transaction
from coordinator.notify.channels import SendResult
from coordinator.notify.dispatcher import claim_due, dispatch_due
from coordinator.notify.metrics import REGISTRY
from coordinator.notify.models import Notification
from coordinator.notify.models import NotificationStatus as Status
from coordinator.people.models import Person
from coordinator.settings import Settings, WechatTemplate
from tests.conftest import TEST_SECRET
from tests.notify.scripted import ScriptedChannel, add_due
from tests.world import World

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def settings(database_url: str) -> Settings:
    # WeChat configured, so people who consent to it are reached there first.
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        scheduler_enabled=False,
        log_json=False,
        debug=True,
        wechat_app_id="wx-test-app",
        wechat_templates={
            kind: WechatTemplate(id=f"TPL-{kind}", data={"thing1": "title", "time2": "time"})
            for kind in ("reminder", "reminder_confirm")
        },
        notify_send_timeout_seconds=0.2,
    )


@pytest.fixture
def sms() -> ScriptedChannel:
    return ScriptedChannel("sms")


@pytest.fixture
def wechat() -> ScriptedChannel:
    return ScriptedChannel("wechat")


class Dispatch:
    def __init__(self, world: World, settings: Settings, sms: ScriptedChannel, wechat: ScriptedChannel):
        self.world, self.settings = world, settings
        self.channels = {"sms": sms, "wechat": wechat}

    async def __call__(self, **overrides: object) -> int:
        settings = self.settings.model_copy(update=overrides)
        return await dispatch_due(
            sessionmaker=self.world.sessionmaker,
            clock=self.world.clock,
            settings=settings,
            channels=dict(self.channels),
            rng=random.Random(1),
        )


@pytest.fixture
def dispatch(world: World, settings: Settings, sms: ScriptedChannel, wechat: ScriptedChannel) -> Dispatch:
    return Dispatch(world, settings, sms, wechat)


def outcomes(channel: str, status: str) -> float:
    return (
        REGISTRY.get_sample_value("coordinator_notifications_total", {"channel": channel, "status": status})
        or 0
    )


async def planned_reminder(world: World, **person_fields: object) -> tuple[Person, Notification]:
    event = await world.event()
    person = await world.person(**person_fields)
    await world.sign_up(event, person)
    await world.deliver_events()
    rows = await world.notifications(event_id=event.id, offset="P1D")
    return person, rows[0]


async def test_a_due_reminder_is_sent_once_with_the_provider_id(
    world: World, dispatch: Dispatch, sms: ScriptedChannel
) -> None:
    person, row = await planned_reminder(world)
    assert await dispatch() == 0  # not due yet

    world.clock.set(row.due_at)
    before = outcomes("sms", "sent")
    assert await dispatch() == 1
    assert await dispatch() == 0

    [sent] = await world.notifications(id=row.id)
    assert (sent.status, sent.attempts, sent.provider_message_id) == (Status.sent, 1, "sms-1")
    assert sms.notification_ids == [row.id]
    assert sms.sent[0].recipient == person.phone
    assert sms.sent[0].template_key == "reminder_confirm"  # the day-before one asks to confirm
    assert outcomes("sms", "sent") == before + 1


async def test_a_refused_wechat_user_falls_back_to_sms(
    world: World, dispatch: Dispatch, sms: ScriptedChannel, wechat: ScriptedChannel
) -> None:
    person, row = await planned_reminder(
        world, consent_wechat=True, wechat_openid="o-refuses", channel_order=["wechat", "sms"]
    )
    assert (row.channel, row.fallback_channels) == ("wechat", ["sms"])
    wechat.answers.append(SendResult.permanent("wechat_43101", "user refuse to accept the msg"))
    world.clock.set(row.due_at)

    await dispatch()
    [refused, fallback] = await world.notifications(plan_key=row.plan_key)
    assert (refused.channel, refused.status) == ("wechat", Status.failed)
    assert "43101" in (refused.last_error or "")
    assert (fallback.channel, fallback.status, fallback.idempotency_key) == (
        "sms",
        Status.pending,
        f"{row.plan_key}:sms",
    )
    assert fallback.payload["recipient"] == person.phone
    async with world.sessionmaker() as session:
        refused_person = await session.get(Person, person.id)
        assert refused_person is not None
        assert refused_person.wechat_refusal == "no_subscription"  # staff see why WeChat failed

    await dispatch()
    assert sms.notification_ids == [fallback.id]
    assert [r.status for r in await world.notifications(plan_key=row.plan_key)] == [
        Status.failed,
        Status.sent,
    ]


async def test_throttling_backs_off_exponentially_then_sends(
    world: World, dispatch: Dispatch, sms: ScriptedChannel
) -> None:
    _, row = await planned_reminder(world)
    sms.answers.extend(
        [
            SendResult.throttled("isv.BUSINESS_LIMIT_CONTROL", "分钟级流控", retry_after=60),
            SendResult.throttled("isv.BUSINESS_LIMIT_CONTROL", "分钟级流控", retry_after=1),
        ]
    )
    world.clock.set(row.due_at)

    await dispatch()
    [waiting] = await world.notifications(id=row.id)
    assert waiting.status == Status.pending
    assert waiting.attempts == 1
    first_wait = waiting.next_attempt_at - row.due_at
    assert timedelta(seconds=60) <= first_wait <= timedelta(seconds=75)  # the provider's window + jitter
    assert await dispatch() == 0  # not before the window has passed

    world.clock.set(waiting.next_attempt_at)
    await dispatch()
    [again] = await world.notifications(id=row.id)
    second_wait = again.next_attempt_at - waiting.next_attempt_at
    assert timedelta(seconds=60) <= second_wait <= timedelta(seconds=75)  # backoff 2 × 30 s
    assert again.attempts == 2

    world.clock.set(again.next_attempt_at)
    await dispatch()
    [done] = await world.notifications(id=row.id)
    assert (done.status, done.attempts) == (Status.sent, 3)
    assert len(sms.sent) == 3


async def test_a_throttle_window_past_the_deadline_expires_the_reminder(
    world: World, dispatch: Dispatch, sms: ScriptedChannel
) -> None:
    _, row = await planned_reminder(world)
    sms.answers.append(SendResult.throttled("isv.DAY_LIMIT_CONTROL", "天级流控", retry_after=86_400 * 2))
    world.clock.set(row.due_at)

    await dispatch()
    [expired] = await world.notifications(id=row.id)
    assert expired.status == Status.expired


async def test_a_reminder_not_sent_before_the_event_starts_expires(
    world: World, dispatch: Dispatch, sms: ScriptedChannel
) -> None:
    _, row = await planned_reminder(world)
    assert row.deadline is not None
    world.clock.set(row.deadline + timedelta(minutes=1))

    assert await dispatch() == 0
    [expired] = await world.notifications(id=row.id)
    assert (expired.status, expired.last_error) == (Status.expired, "deadline_passed")
    assert sms.sent == []


async def test_a_send_that_times_out_is_unknown_and_never_resent(
    world: World, dispatch: Dispatch, sms: ScriptedChannel
) -> None:
    _, row = await planned_reminder(world)
    sms.delay = 1.0  # longer than notify_send_timeout_seconds
    world.clock.set(row.due_at)

    await dispatch()
    [unknown] = await world.notifications(id=row.id)
    assert (unknown.status, unknown.last_error) == (Status.unknown, "send_timeout: no answer in 0.2s")

    world.clock.set(row.due_at + timedelta(hours=1))
    sms.delay = 0
    assert await dispatch() == 0
    assert len(sms.sent) == 1


async def test_a_lease_lost_mid_send_becomes_unknown_not_pending(
    world: World, dispatch: Dispatch, settings: Settings, sms: ScriptedChannel
) -> None:
    _, row = await planned_reminder(world)
    world.clock.set(row.due_at)
    # A worker claims the row and dies before recording anything.
    batches = await claim_due(world.sessionmaker, world.clock, settings, {"sms": sms})
    assert [[claim.id for claim in batch] for batch in batches] == [[row.id]]
    [claimed] = await world.notifications(id=row.id)
    assert claimed.status == Status.sending

    world.clock.set(row.due_at + timedelta(seconds=settings.notify_lease_seconds + 1))
    assert await dispatch() == 0
    [lost] = await world.notifications(id=row.id)
    assert (lost.status, lost.last_error) == (Status.unknown, "lease_expired")
    assert sms.sent == []


async def test_the_daily_cap_defers_to_the_next_morning(
    world: World, dispatch: Dispatch, sms: ScriptedChannel
) -> None:
    person = await world.person()
    now = world.clock.now()
    async with transaction(world.sessionmaker) as session:
        for n in range(3):
            await add_due(session, person, key=f"t:{n}", due=now, deadline=now + timedelta(days=3))

    await dispatch(notify_daily_cap=2)
    rows = await world.notifications(person_id=person.id)
    assert [r.status for r in rows] == [Status.sent, Status.sent, Status.pending]
    # 08:00 tomorrow in Kaili (quiet hours end), not midnight.
    assert rows[2].next_attempt_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert rows[2].last_error == "daily_cap"
    assert await dispatch(notify_daily_cap=2) == 0


async def test_concurrent_dispatchers_send_each_row_exactly_once(
    world: World, dispatch: Dispatch, sms: ScriptedChannel
) -> None:
    people = [await world.person() for _ in range(10)]
    now = world.clock.now()
    async with transaction(world.sessionmaker) as session:
        for n in range(120):
            await add_due(session, people[n % 10], key=f"c:{n}", due=now)

    rounds = 0
    while rounds < 10:
        done = await asyncio.gather(*(dispatch(notify_batch_size=17, notify_daily_cap=100) for _ in range(4)))
        rounds += 1
        if sum(done) == 0:
            break
    async with world.sessionmaker() as session:
        statuses = list(await session.scalars(select(Notification.status)))
    assert statuses.count(Status.sent) == 120
    assert sorted(sms.notification_ids) == sorted(set(sms.notification_ids))
    assert len(sms.sent) == 120
