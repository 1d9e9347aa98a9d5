"""Delivery channels behind one interface (see ``base``), built from the settings.

``build_channels`` answers the channels by the name a person's fallback chain uses:
- ``"sms"``: Aliyun, Tencent or the console, per ``sms_provider`` (console by default);
- ``"wechat"``: only when ``wechat_app_id`` is set;
- ``"email"``: only when ``smtp_host`` is set;
- ``"console"``: always (the same instance as ``"sms"`` when SMS goes to the console).
A channel that is not configured is absent rather than faked, so nothing is marked sent that
never left.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock, SystemClock
from coordinator.notify.channels.base import Channel, OutboundMessage, SendOutcome, SendResult
from coordinator.notify.channels.console import ConsoleChannel
from coordinator.notify.channels.email import EmailChannel
from coordinator.notify.channels.sms_aliyun import AliyunSmsChannel
from coordinator.notify.channels.sms_tencent import TencentSmsChannel
from coordinator.notify.channels.wechat import WechatChannel
from coordinator.notify.channels.wechat_token import WechatTokenStore
from coordinator.notify.subscriptions import SubscriptionLedger
from coordinator.settings import Settings

__all__ = [
    "Channel",
    "ConsoleChannel",
    "OutboundMessage",
    "SendOutcome",
    "SendResult",
    "build_channels",
    "provider_client",
]

# Bounds each provider call; the dispatcher also bounds the whole send.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def provider_client(settings: Settings) -> httpx.AsyncClient:
    """The HTTP client the channels share: one connection pool, as wide as the sends at once."""
    return httpx.AsyncClient(
        timeout=HTTP_TIMEOUT, limits=httpx.Limits(max_connections=settings.notify_send_concurrency)
    )


def build_channels(
    settings: Settings,
    http_client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    clock: Clock | None = None,
) -> dict[str, Channel]:
    clock = clock or SystemClock()
    console = ConsoleChannel()
    channels: dict[str, Channel] = {"console": console, "sms": _sms(settings, http_client, clock, console)}
    if settings.wechat_app_id:
        channels["wechat"] = _wechat(settings, http_client, sessionmaker, clock)
    if settings.smtp_host:
        channels["email"] = _email(settings, clock)
    return channels


def _sms(settings: Settings, http: httpx.AsyncClient, clock: Clock, console: ConsoleChannel) -> Channel:
    if settings.sms_provider == "aliyun":
        return AliyunSmsChannel(
            http=http,
            clock=clock,
            access_key_id=settings.aliyun_access_key_id,
            access_key_secret=settings.aliyun_access_key_secret,
            sign_name=settings.aliyun_sms_sign_name,
            template_codes=settings.aliyun_sms_template_codes,
            endpoint=settings.aliyun_sms_endpoint,
            region_id=settings.aliyun_sms_region,
        )
    if settings.sms_provider == "tencent":
        return TencentSmsChannel(
            http=http,
            clock=clock,
            secret_id=settings.tencent_secret_id,
            secret_key=settings.tencent_secret_key,
            sdk_app_id=settings.tencent_sms_sdk_app_id,
            sign_name=settings.tencent_sms_sign_name,
            template_ids=settings.tencent_sms_template_ids,
            template_param_names=settings.tencent_sms_template_params,
            region=settings.tencent_sms_region,
            endpoint=settings.tencent_sms_endpoint,
        )
    return console


def _wechat(
    settings: Settings,
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> WechatChannel:
    tokens = WechatTokenStore(
        http=http,
        sessionmaker=sessionmaker,
        clock=clock,
        app_id=settings.wechat_app_id,
        app_secret=settings.wechat_app_secret,
        base_url=settings.wechat_base_url,
    )
    return WechatChannel(
        http=http,
        tokens=tokens,
        templates=settings.wechat_templates,
        mode=settings.wechat_mode,
        base_url=settings.wechat_base_url,
        miniprogram_state=settings.wechat_miniprogram_state,
        subscriptions=SubscriptionLedger(sessionmaker=sessionmaker, clock=clock),
    )


def _email(settings: Settings, clock: Clock) -> EmailChannel:
    return EmailChannel(
        clock=clock,
        host=settings.smtp_host,
        port=settings.smtp_port,
        from_address=settings.smtp_from,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds,
    )
