from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import async_sessionmaker
from structlog.testing import capture_logs

from coordinator.notify.channels import ConsoleChannel, build_channels
from coordinator.notify.channels.base import OutboundMessage, SendOutcome
from coordinator.notify.channels.email import EmailChannel
from coordinator.notify.channels.sms_aliyun import AliyunSmsChannel
from coordinator.notify.channels.sms_tencent import TencentSmsChannel
from coordinator.notify.channels.wechat import WechatChannel
from coordinator.settings import Settings


def otp(phone: str = "+8613812345678", code: str = "482913", notification_id: int = 1) -> OutboundMessage:
    return OutboundMessage(
        notification_id=notification_id,
        channel="sms",
        recipient=phone,
        template_key="otp",
        params={"code": code},
        text=f"您的登录验证码是{code}，5分钟内有效。",
    )


async def test_console_keeps_messages_and_logs_the_phone_masked() -> None:
    console = ConsoleChannel()
    with capture_logs() as logs:
        result = await console.send(otp())

    assert result.outcome is SendOutcome.sent
    last = console.last_for("+8613812345678")
    assert last is not None
    assert last.params["code"] == "482913"
    [entry] = logs
    assert entry["recipient"] == "138****5678"
    assert "13812345678" not in str(entry)
    assert "482913" in entry["text"]


async def test_console_keeps_only_the_latest_messages() -> None:
    console = ConsoleChannel(keep=3)
    for n in range(5):
        await console.send(otp(notification_id=n))
    assert [m.notification_id for m in console.messages] == [2, 3, 4]


def _build(**settings: object) -> dict[str, object]:
    channels = build_channels(
        Settings(**settings),  # type: ignore[arg-type]
        httpx.AsyncClient(),
        async_sessionmaker(),
    )
    return dict(channels)


def test_development_defaults_need_no_credentials() -> None:
    channels = _build()
    assert set(channels) == {"sms", "console"}
    assert channels["sms"] is channels["console"]
    assert isinstance(channels["console"], ConsoleChannel)


@pytest.mark.parametrize(("provider", "kind"), [("aliyun", AliyunSmsChannel), ("tencent", TencentSmsChannel)])
def test_sms_provider_is_chosen_by_settings(provider: str, kind: type) -> None:
    assert isinstance(_build(sms_provider=provider)["sms"], kind)


def test_wechat_and_email_are_built_when_configured() -> None:
    channels = _build(
        wechat_app_id="wx-app",
        wechat_app_secret=SecretStr("s"),
        smtp_host="smtp.example.cn",
        smtp_from="noreply@example.cn",
    )
    assert isinstance(channels["wechat"], WechatChannel)
    assert isinstance(channels["email"], EmailChannel)


def test_secrets_do_not_show_in_settings_repr() -> None:
    settings = Settings(
        aliyun_access_key_secret=SecretStr("very-secret"), smtp_password=SecretStr("pw-secret")
    )
    assert "very-secret" not in repr(settings)
    assert "pw-secret" not in repr(settings)
