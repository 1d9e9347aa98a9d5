"""A channel that only prints: the development default, so nothing needs provider credentials.

The last messages stay in memory, unmasked, so development tools and tests can read what was
"sent" (a login code, say); the printed line masks the phone like every other log line.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import ClassVar

import structlog

from coordinator.masking import mask_phone, mask_text
from coordinator.notify.channels.base import Channel, OutboundMessage, SendResult

log = structlog.get_logger(__name__)


def masked_recipient(recipient: str) -> str:
    if "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    if recipient.lstrip("+").isdigit():
        return mask_phone(recipient) or ""
    return f"{recipient[:4]}***"  # a WeChat openid


class ConsoleChannel(Channel):
    name: ClassVar[str] = "console"

    def __init__(self, *, keep: int = 200) -> None:
        self._messages: deque[OutboundMessage] = deque(maxlen=keep)
        self._ids = itertools.count(1)

    @property
    def messages(self) -> list[OutboundMessage]:
        """The kept messages, oldest first."""
        return list(self._messages)

    def last_for(self, recipient: str) -> OutboundMessage | None:
        return next((m for m in reversed(self._messages) if m.recipient == recipient), None)

    async def send(self, message: OutboundMessage) -> SendResult:
        self._messages.append(message)
        log.info(
            "console_message",
            notification_id=message.notification_id,
            channel=message.channel,
            recipient=masked_recipient(message.recipient),
            template=message.template_key,
            subject=mask_text(message.subject),
            text=mask_text(message.text or ", ".join(f"{k}={v}" for k, v in message.params.items())),
            url=message.url,
        )
        return SendResult.sent(f"console-{next(self._ids)}")
