from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker
from coordinator.notify.channels.base import OutboundMessage, SendOutcome
from coordinator.notify.channels.wechat import WechatChannel, WechatMode
from coordinator.notify.channels.wechat_token import WechatTokenStore
from coordinator.notify.models import ChannelToken
from tests.notify.fake_server import unused_port
from tests.notify.fake_wechat import FakeWechat

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

Wechat = tuple[FakeWechat, str]


def reminder(notification_id: int = 63) -> OutboundMessage:
    return OutboundMessage(
        notification_id=notification_id,
        channel="wechat",
        recipient=OPENID,
        template_key="reminder",
        params={"thing1": "重阳节敬老活动", "time2": "2026-10-29 09:00"},
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
        http=http, tokens=tokens, template_ids={"reminder": "TPL-REMINDER"}, mode=mode, base_url=url
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
        "time2": {"value": "2026-10-29 09:00"},
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
    result = await channel(http, sessionmaker, clock, url, fake, mode="mini_program").send(reminder())

    assert result.outcome is SendOutcome.sent
    [sent] = fake.sent
    assert sent.path == "/cgi-bin/message/subscribe/send"
    assert sent.body["page"] == "https://example.org/events/7"
    assert sent.body["miniprogram_state"] == "formal"
    assert "client_msg_id" not in sent.body


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
