"""Email over SMTP (aiosmtplib): STARTTLS, implicit TLS, or plain for a local relay.

One connection per channel instance is reused and re-opened when the server has dropped it.
The SMTP steps are issued one by one so a failure is classified by where it happened: before
DATA nothing was handed over (safe to retry); once DATA has started the server may have
accepted the message, so a timeout or a dropped connection there is ``unknown``.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from typing import ClassVar, Literal

import aiosmtplib
from pydantic import SecretStr

from coordinator.clock import Clock
from coordinator.notify.channels.base import DEFAULT_RETRY_AFTER, Channel, OutboundMessage, SendResult

SmtpSecurity = Literal["starttls", "tls", "none"]
DEFAULT_SUBJECT = "社工站通知"
_CLOSING = 421  # the server is shutting the connection (idle timeout, restart)


def message_id_for(notification_id: int, from_address: str) -> str:
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "coordinator.invalid"
    return f"<notification-{notification_id}@{domain}>"


def result_for_reply(code: int, message: str) -> SendResult:
    """A definite SMTP reply: 5xx will never be accepted, 4xx may be later."""
    if code >= 500:
        return SendResult.permanent(f"smtp_{code}", message)
    return SendResult.throttled(f"smtp_{code}", message, retry_after=DEFAULT_RETRY_AFTER)


@dataclass
class _Progress:
    data_started: bool = False


class EmailChannel(Channel):
    name: ClassVar[str] = "email"

    def __init__(
        self,
        *,
        clock: Clock,
        host: str,
        port: int,
        from_address: str,
        security: SmtpSecurity = "starttls",
        username: str = "",
        password: SecretStr | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._clock = clock
        self._host = host
        self._port = port
        self._from = from_address
        self._envelope_from = parseaddr(from_address)[1]
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        self._smtp: aiosmtplib.SMTP | None = None
        # One connection carries one mail transaction at a time.
        self._lock = asyncio.Lock()

    def build_message(self, message: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._from
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or DEFAULT_SUBJECT
        mail["Date"] = format_datetime(self._clock.now())
        mail["Message-ID"] = message_id_for(message.notification_id, self._from)
        body = message.text or "\n".join(f"{k}: {v}" for k, v in message.params.items())
        # The templates that carry a link write it into their text; add it only where they did not.
        if message.url and message.url not in body:
            body = f"{body}\n\n{message.url}"
        mail.set_content(f"{body}\n")
        return mail

    async def send(self, message: OutboundMessage) -> SendResult:
        mail = self.build_message(message)
        progress = _Progress()
        async with self._lock:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._transact(message.recipient, mail.as_bytes(policy=SMTP_POLICY), progress)
                return SendResult.sent(str(mail["Message-ID"]))
            except aiosmtplib.SMTPResponseException as exc:
                await self._after_refusal()
                return result_for_reply(exc.code, exc.message)
            except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
                self._discard()
                return self._failure(exc, progress)

    async def aclose(self) -> None:
        async with self._lock:
            if self._smtp is not None and self._smtp.is_connected:
                try:
                    async with asyncio.timeout(5):
                        await self._smtp.quit()
                except (TimeoutError, aiosmtplib.SMTPException, OSError):
                    pass
            self._discard()

    def _failure(self, exc: BaseException, progress: _Progress) -> SendResult:
        if progress.data_started:
            return SendResult.unknown("smtp_lost_after_data", type(exc).__name__)
        if type(exc) in (aiosmtplib.SMTPException, aiosmtplib.SMTPNotSupported):
            # STARTTLS or login required but not offered by the server (aiosmtplib raises the bare
            # base class for those): nothing goes out until the settings change.
            return SendResult.permanent("smtp_not_supported", str(exc))
        return SendResult.throttled("smtp_unavailable", type(exc).__name__, retry_after=DEFAULT_RETRY_AFTER)

    async def _transact(self, recipient: str, content: bytes, progress: _Progress) -> None:
        reused = self._smtp is not None and self._smtp.is_connected
        smtp = await self._connected()
        try:
            await smtp.mail(self._envelope_from)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPSenderRefused) as exc:
            closing = not isinstance(exc, aiosmtplib.SMTPResponseException) or exc.code == _CLOSING
            if not (reused and closing):
                raise
            # The kept connection went stale while idle: open a fresh one, once.
            self._discard()
            smtp = await self._connected()
            await smtp.mail(self._envelope_from)
        await smtp.rcpt(recipient)
        progress.data_started = True
        await smtp.data(content)

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username or None,
            password=self._password.get_secret_value() if self._password and self._username else None,
            use_tls=self._security == "tls",
            start_tls=self._security == "starttls",
            tls_context=self._tls_context,
            timeout=self._timeout,
        )
        await smtp.connect()
        self._smtp = smtp
        return smtp

    async def _after_refusal(self) -> None:
        """A refused recipient or message leaves the connection usable once the envelope is reset."""
        if self._smtp is None or not self._smtp.is_connected:
            self._discard()
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._smtp.rset()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            self._discard()

    def _discard(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None
