from __future__ import annotations

import asyncio
import email
import random
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from coordinator.clock import FixedClock
from coordinator.notify.channels.base import OutboundMessage, SendOutcome
from coordinator.notify.channels.email import EmailChannel, SmtpSecurity
from coordinator.notify.dispatcher import dispatch_due
from coordinator.settings import Settings
from tests.api.signup_requests import invite
from tests.notify.fake_server import unused_port
from tests.world import World

FROM = "凯里社工站 <noreply@station.example.cn>"
USER, PASSWORD = "mailer", "mailer-password"


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: Any
    over_tls: bool


@dataclass
class RecordingHandler:
    """An SMTP server's mail handler that records deliveries and can refuse or stall."""

    refuse: dict[str, str] = field(default_factory=dict)
    data_delay: float = 0.0
    delivered: list[Delivered] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        message = email.message_from_bytes(envelope.content, _class=EmailMessage, policy=default_policy)
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.delivered.append(
            Delivered(envelope.mail_from, list(envelope.rcpt_tos), message, session.peer, tls)
        )
        return "250 2.0.0 Ok: queued"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@dataclass
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls() -> Tls:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(server, client)


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


def start(handler: RecordingHandler, **kwargs: Any) -> tuple[Controller, int]:
    port = unused_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def plain_server(handler: RecordingHandler) -> Iterator[int]:
    controller, port = start(handler, timeout=0.5)
    yield port
    controller.stop()


def message(notification_id: int = 74, recipient: str = "li.na@example.cn") -> OutboundMessage:
    return OutboundMessage(
        notification_id=notification_id,
        channel="email",
        recipient=recipient,
        template_key="reminder",
        subject="活动提醒：重阳节敬老活动",
        text="您报名的重阳节敬老活动将于10月29日 09:00开始。",
        url="https://example.org/events/7",
    )


def channel(
    clock: FixedClock, port: int, security: SmtpSecurity = "none", timeout: float = 2.0, **kwargs: Any
) -> EmailChannel:
    return EmailChannel(
        clock=clock,
        host="127.0.0.1",
        port=port,
        from_address=FROM,
        security=security,
        timeout=timeout,
        **kwargs,
    )


async def test_starttls_with_login_delivers_with_message_id_from_notification(
    clock: FixedClock, handler: RecordingHandler, tls: Tls
) -> None:
    controller, port = start(
        handler, tls_context=tls.server, require_starttls=True, authenticator=authenticate
    )
    mail = channel(
        clock, port, "starttls", tls_context=tls.client, username=USER, password=SecretStr(PASSWORD)
    )
    try:
        result = await mail.send(message(74))
    finally:
        await mail.aclose()
        controller.stop()

    assert result.outcome is SendOutcome.sent
    assert result.provider_message_id == "<notification-74@station.example.cn>"
    [delivered] = handler.delivered
    assert delivered.over_tls
    assert delivered.mail_from == "noreply@station.example.cn"
    assert delivered.rcpt_tos == ["li.na@example.cn"]
    assert delivered.message["Message-ID"] == "<notification-74@station.example.cn>"
    assert delivered.message["Subject"] == "活动提醒：重阳节敬老活动"
    body = delivered.message.get_body()
    assert body is not None
    assert "https://example.org/events/7" in body.get_content()


async def test_implicit_tls_delivers(clock: FixedClock, handler: RecordingHandler, tls: Tls) -> None:
    controller, port = start(handler, ssl_context=tls.server)
    mail = channel(clock, port, "tls", tls_context=tls.client)
    try:
        result = await mail.send(message())
    finally:
        await mail.aclose()
        controller.stop()
    assert result.outcome is SendOutcome.sent
    assert handler.delivered[0].over_tls


async def test_server_without_starttls_is_refused_when_starttls_is_required(
    clock: FixedClock, handler: RecordingHandler, plain_server: int
) -> None:
    mail = channel(clock, plain_server, "starttls")
    result = await mail.send(message())
    await mail.aclose()
    assert (result.outcome, result.error_code) == (SendOutcome.permanent_failure, "smtp_not_supported")
    assert handler.delivered == []


async def test_connection_is_reused_and_reopened_after_the_server_drops_it(
    clock: FixedClock, handler: RecordingHandler, plain_server: int
) -> None:
    mail = channel(clock, plain_server)
    first, second = await mail.send(message(1)), await mail.send(message(2))
    await asyncio.sleep(1.0)  # the server closes connections idle for 0.5 s
    third = await mail.send(message(3))
    await mail.aclose()

    assert [r.outcome for r in (first, second, third)] == [SendOutcome.sent] * 3
    peers = [d.peer for d in handler.delivered]
    assert peers[0] == peers[1] != peers[2]


@pytest.mark.parametrize(
    ("reply", "outcome", "code"),
    [
        ("550 5.1.1 mailbox unavailable", SendOutcome.permanent_failure, "smtp_550"),
        ("450 4.2.1 mailbox busy, try later", SendOutcome.throttled, "smtp_450"),
    ],
)
async def test_refused_recipient_maps_to_outcome_and_connection_stays_usable(
    clock: FixedClock,
    handler: RecordingHandler,
    plain_server: int,
    reply: str,
    outcome: SendOutcome,
    code: str,
) -> None:
    handler.refuse["gone@example.cn"] = reply
    mail = channel(clock, plain_server)
    refused = await mail.send(message(1, recipient="gone@example.cn"))
    accepted = await mail.send(message(2))
    await mail.aclose()

    assert (refused.outcome, refused.error_code) == (outcome, code)
    assert accepted.outcome is SendOutcome.sent
    assert [d.rcpt_tos for d in handler.delivered] == [["li.na@example.cn"]]


async def test_timeout_after_data_is_unknown(
    clock: FixedClock, handler: RecordingHandler, plain_server: int
) -> None:
    handler.data_delay = 3.0
    mail = channel(clock, plain_server, timeout=0.5)
    result = await mail.send(message())
    await mail.aclose()
    assert result.outcome is SendOutcome.unknown
    assert result.error_code == "smtp_lost_after_data"


async def test_refused_connection_is_retryable(clock: FixedClock) -> None:
    mail = channel(clock, unused_port())
    result = await mail.send(message())
    assert (result.outcome, result.error_code) == (SendOutcome.throttled, "smtp_unavailable")


async def test_wrong_password_fails_permanently(
    clock: FixedClock, handler: RecordingHandler, tls: Tls
) -> None:
    controller, port = start(
        handler, tls_context=tls.server, require_starttls=True, authenticator=authenticate
    )
    mail = channel(
        clock, port, "starttls", tls_context=tls.client, username=USER, password=SecretStr("wrong")
    )
    try:
        result = await mail.send(message())
    finally:
        await mail.aclose()
        controller.stop()
    assert (result.outcome, result.error_code) == (SendOutcome.permanent_failure, "smtp_535")
    assert handler.delivered == []


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app of this module's end-to-end test delivers email."""
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_from": FROM})


async def test_an_invitation_email_shows_its_answer_link_once(
    client: httpx.AsyncClient, world: World, settings: Settings, handler: RecordingHandler, plain_server: int
) -> None:
    event = await world.event()
    guest = await world.person(
        email="li.na@example.cn", consent_email=True, consent_sms=False, channel_order=["email"]
    )
    assert (await invite(client, world, event.id, guest.id)).status_code == 201
    await world.deliver_events()
    mail = channel(world.clock, plain_server)
    try:
        sent = await dispatch_due(
            sessionmaker=world.sessionmaker,
            clock=world.clock,
            settings=settings,
            channels={"email": mail},
            rng=random.Random(1),
        )
    finally:
        await mail.aclose()

    assert sent == 1
    [delivered] = handler.delivered
    assert delivered.rcpt_tos == ["li.na@example.cn"]
    body = delivered.message.get_body()
    assert body is not None
    text = body.get_content()
    assert "请打开以下链接回复是否参加" in text
    assert text.count("/web/invitation?token=") == 1
