from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.notify.channels.base import OutboundMessage, SendOutcome
from coordinator.notify.channels.wechat import WechatChannel, WechatMode
from coordinator.notify.channels.wechat_token import WechatTokenStore
from coordinator.notify.metrics import WECHAT_TEMPLATE_REFUSALS
from coordinator.notify.models import ChannelToken
from coordinator.notify.subscriptions import SubscriptionLedger, record_results, remaining
from coordinator.settings import WechatTemplate
from tests.notify.fake_server import unused_port
from tests.notify.fake_wechat import FakeTemplate, FakeWechat

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

Wechat = tuple[FakeWechat, str]


async def accept(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, template_id: str, times: int = 1
) -> None:
    """As if the mini program reported ``times`` acceptances of ``template_id``."""
    async with transaction(sessionmaker) as session:
        for _ in range(times):
            await record_results(session, openid=OPENID, results={template_id: "accept"}, now=clock.now())


REMINDER = WechatTemplate(
    id="TPL-REMINDER",
    data={"thing1": "title", "time2": "time", "thing3": "place", "phrase4": "status"},
    page="pages/event/index",
)
OA_REMINDER = REMINDER.model_copy(update={"page": ""})


def reminder(notification_id: int = 63, **params: str) -> OutboundMessage:
    return OutboundMessage(
        notification_id=notification_id,
        channel="wechat",
        recipient=OPENID,
        template_key="reminder",
        params={
            "title": "重阳节敬老活动",
            "time": "2026-10-29T09:00:00+08:00",
            "place": "村委会活动室",
            "status": "即将开始",
            "token": "12-abcDEF",
            **params,
        },
        url="https://example.org/events/7",
    )


def channel(
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    url: str,
    fake: FakeWechat,
    mode: WechatMode = "official_account",
) -> WechatChannel:
    tokens = WechatTokenStore(
        http=http,
        sessionmaker=sessionmaker,
        clock=clock,
        app_id=fake.app_id,
        app_secret=SecretStr(fake.secret),
        base_url=url,
    )
    return WechatChannel(
        http=http,
        tokens=tokens,
        templates={"reminder": REMINDER if mode == "mini_program" else OA_REMINDER},
        mode=mode,
        base_url=url,
        subscriptions=SubscriptionLedger(sessionmaker=sessionmaker, clock=clock),
    )


async def test_template_message_carries_client_msg_id_and_token_is_stored(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    result = await channel(http, sessionmaker, clock, url, fake).send(reminder(63))

    assert result.outcome is SendOutcome.sent
    assert result.provider_message_id is not None
    [sent] = fake.sent
    assert sent.path == "/cgi-bin/message/template/send"
    assert sent.body["client_msg_id"] == "n63"
    assert sent.body["touser"] == OPENID
    assert sent.body["template_id"] == "TPL-REMINDER"
    assert sent.body["data"] == {
        "thing1": {"value": "重阳节敬老活动"},
        "time2": {"value": "2026年10月29日 09:00"},
        "thing3": {"value": "村委会活动室"},
        "phrase4": {"value": "即将开始"},
    }
    assert sent.body["url"] == "https://example.org/events/7"
    async with sessionmaker() as session:
        row = (await session.scalars(select(ChannelToken))).one()
    assert row.provider == f"wechat:{fake.app_id}"
    assert row.token == fake.current_token
    assert row.expires_at == clock.now() + timedelta(seconds=7200)


async def test_mini_program_sends_a_subscribe_message(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    await accept(sessionmaker, clock, REMINDER.id)
    result = await channel(http, sessionmaker, clock, url, fake, mode="mini_program").send(reminder())

    assert result.outcome is SendOutcome.sent
    [sent] = fake.sent
    assert sent.path == "/cgi-bin/message/subscribe/send"
    assert sent.body["page"] == "pages/event/index?token=12-abcDEF"
    assert sent.body["miniprogram_state"] == "formal"
    assert "client_msg_id" not in sent.body
    assert "url" not in sent.body


async def test_token_is_shared_by_channel_instances(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    first = await channel(http, sessionmaker, clock, url, fake).send(reminder(1))
    second = await channel(http, sessionmaker, clock, url, fake).send(reminder(2))

    assert (first.outcome, second.outcome) == (SendOutcome.sent, SendOutcome.sent)
    assert fake.token_fetches == 1


async def test_expired_token_is_fetched_again(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    wx = channel(http, sessionmaker, clock, url, fake)
    await wx.send(reminder(1))
    clock.set(clock.now() + timedelta(hours=2))
    fake.invalidate_token()

    result = await wx.send(reminder(2))
    assert result.outcome is SendOutcome.sent
    assert fake.token_fetches == 2
    assert [s.access_token for s in fake.sent] == ["token-1", "token-2"]


async def test_invalid_token_is_refreshed_once_and_the_send_retried(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    wx = channel(http, sessionmaker, clock, url, fake)
    await wx.send(reminder(1))
    fake.invalidate_token()  # revoked although our row says it is still valid

    result = await wx.send(reminder(2))
    assert result.outcome is SendOutcome.sent
    assert fake.token_fetches == 2
    assert [s.access_token for s in fake.sent] == ["token-1", "token-1", "token-2"]
    async with sessionmaker() as session:
        assert (await session.scalars(select(ChannelToken.token))).one() == "token-2"


async def test_token_rejected_twice_stops_after_one_refresh(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    wx = channel(http, sessionmaker, clock, url, fake)
    fake.answer_next(0, 40001, 40001)
    await wx.send(reminder(1))

    result = await wx.send(reminder(2))
    assert result.outcome is SendOutcome.throttled
    assert result.error_code == "wechat_40001"
    assert fake.token_fetches == 2
    assert len(fake.sent) == 3


async def test_concurrent_refreshes_fetch_one_token(
    http: httpx.AsyncClient, database_url: str, clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    fake.token_delay = 0.2  # keep the first refresh in flight while the second one starts
    # Two engines, as two worker processes would have.
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        channels = [channel(http, create_sessionmaker(e), clock, url, fake) for e in engines]
        results = await asyncio.gather(*(wx.send(reminder(i)) for i, wx in enumerate(channels)))
    finally:
        for engine in engines:
            await engine.dispose()

    assert [r.outcome for r in results] == [SendOutcome.sent, SendOutcome.sent]
    assert fake.token_fetches == 1


@pytest.mark.parametrize(
    ("errcode", "outcome"),
    [
        (43101, SendOutcome.permanent_failure),
        (43004, SendOutcome.permanent_failure),
        (41030, SendOutcome.permanent_failure),
        (40003, SendOutcome.permanent_failure),
        (40037, SendOutcome.permanent_failure),
        (47003, SendOutcome.permanent_failure),
        (45009, SendOutcome.throttled),
        (-1, SendOutcome.throttled),
    ],
)
async def test_errcodes_map_to_outcomes(
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    wechat: Wechat,
    errcode: int,
    outcome: SendOutcome,
) -> None:
    fake, url = wechat
    fake.answer_next(errcode)
    result = await channel(http, sessionmaker, clock, url, fake).send(reminder())
    assert (result.outcome, result.error_code) == (outcome, f"wechat_{errcode}")


async def test_wrong_app_secret_fails_permanently_without_sending(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    wrong = FakeWechat(app_id=fake.app_id, secret="not-the-secret")
    result = await channel(http, sessionmaker, clock, url, wrong).send(reminder())
    assert (result.outcome, result.error_code) == (SendOutcome.permanent_failure, "token_rejected")
    assert fake.sent == []


async def test_unreachable_wechat_is_retryable(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    fake = FakeWechat()
    result = await channel(http, sessionmaker, clock, f"http://127.0.0.1:{unused_port()}", fake).send(
        reminder()
    )
    assert (result.outcome, result.error_code) == (SendOutcome.throttled, "token_unavailable")


def fake_rules(fake: FakeWechat, *, subscriptions: int = 0, following: bool = True) -> None:
    """The fake knows our template and user, so it refuses what WeChat would."""
    fake.templates[REMINDER.id] = FakeTemplate(keys=tuple(REMINDER.data), pages=(REMINDER.page,))
    fake.user(OPENID, following=following).subscriptions[REMINDER.id] = subscriptions


async def test_values_are_fitted_to_their_key_types_and_accepted(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    fake_rules(fake, subscriptions=1)
    await accept(sessionmaker, clock, REMINDER.id)
    long_title = "苗年节芦笙队排练暨青少年非遗传承培训班第三期结业展演活动"
    message = reminder(title=long_title, place="")

    result = await channel(http, sessionmaker, clock, url, fake, mode="mini_program").send(message)

    assert (result.outcome, fake.refused) == (SendOutcome.sent, [])
    data = fake.sent[0].body["data"]
    assert data["thing1"]["value"] == long_title[:19] + "…"
    assert data["thing3"]["value"] == "无"  # WeChat refuses an empty value


async def test_a_subscribe_message_spends_one_acceptance_and_none_left_sends_nothing(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    fake_rules(fake, subscriptions=5)
    await accept(sessionmaker, clock, REMINDER.id)
    wx = channel(http, sessionmaker, clock, url, fake, mode="mini_program")

    first = await wx.send(reminder(1))
    second = await wx.send(reminder(2))

    assert first.outcome is SendOutcome.sent
    assert (second.outcome, second.error_code) == (SendOutcome.permanent_failure, "wechat_no_subscription")
    assert len(fake.sent) == 1


async def test_wechat_saying_no_subscription_clears_ours(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    fake_rules(fake, subscriptions=0)  # withdrawn in WeChat's settings
    await accept(sessionmaker, clock, REMINDER.id, times=3)
    wx = channel(http, sessionmaker, clock, url, fake, mode="mini_program")

    refused = await wx.send(reminder(1))
    assert refused.error_code == "wechat_43101"
    async with sessionmaker() as session:
        assert await remaining(session, OPENID) == {REMINDER.id: 0}


async def test_a_throttled_subscribe_message_keeps_its_acceptance(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    await accept(sessionmaker, clock, REMINDER.id)
    fake.answer_next(45009)
    wx = channel(http, sessionmaker, clock, url, fake, mode="mini_program")

    assert (await wx.send(reminder(1))).outcome is SendOutcome.throttled
    assert (await wx.send(reminder(1))).outcome is SendOutcome.sent


async def test_a_refused_template_is_counted_and_logged_with_kind_and_template(
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    wechat: Wechat,
) -> None:
    fake, url = wechat
    fake_rules(fake)
    fake.templates[REMINDER.id] = FakeTemplate(keys=("thing1", "time2"))  # the template has other keys
    before = WECHAT_TEMPLATE_REFUSALS.labels("reminder", "wechat_47003")._value.get()
    with capture_logs() as logs:
        result = await channel(http, sessionmaker, clock, url, fake).send(reminder())

    assert (result.outcome, result.error_code) == (SendOutcome.permanent_failure, "wechat_47003")
    assert WECHAT_TEMPLATE_REFUSALS.labels("reminder", "wechat_47003")._value.get() == before + 1
    [line] = [entry for entry in logs if entry["event"] == "wechat_template_refused"]
    assert (line["kind"], line["template_id"]) == ("reminder", REMINDER.id)


async def test_a_user_who_does_not_follow_the_account_is_refused(
    http: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, wechat: Wechat
) -> None:
    fake, url = wechat
    fake_rules(fake, following=False)
    result = await channel(http, sessionmaker, clock, url, fake).send(reminder())
    assert (result.outcome, result.error_code) == (SendOutcome.permanent_failure, "wechat_43004")


async def test_the_last_acceptance_is_spent_once_by_concurrent_workers(
    database_url: str, clock: FixedClock
) -> None:
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        makers = [create_sessionmaker(e) for e in engines]
        await accept(makers[0], clock, REMINDER.id)
        ledgers = [SubscriptionLedger(sessionmaker=m, clock=clock) for m in makers]
        spent = await asyncio.gather(*(ledger.spend(OPENID, REMINDER.id) for ledger in ledgers))
        async with makers[0]() as session:
            left = await remaining(session, OPENID)
    finally:
        for engine in engines:
            await engine.dispose()

    assert sorted(spent) == [False, True]
    assert left == {REMINDER.id: 0}
