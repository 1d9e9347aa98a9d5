"""The one interface every delivery channel implements, and the outcomes a send can have.

The outcome decides what the dispatcher may do next, so the split matters most for failures:
a ``permanent_failure`` will never succeed (try the next channel), ``throttled`` is safe to retry
later because nothing was delivered, and ``unknown`` means the provider may have accepted the
message: retrying blindly could send it twice, so it is resolved by receipt or query instead.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

import httpx

from coordinator.masking import mask_text

# Waiting this long is enough for a refused connection or a busy gateway to recover.
DEFAULT_RETRY_AFTER = 30.0
_MAX_ERROR_MESSAGE = 300


class SendOutcome(StrEnum):
    sent = "sent"
    permanent_failure = "permanent_failure"
    throttled = "throttled"
    unknown = "unknown"


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one recipient; ``notification_id`` is the correlation id sent along."""

    notification_id: int
    channel: str  # "sms" | "wechat" | "email" | "console"
    recipient: str  # phone in E.164, WeChat openid, or email address
    template_key: str  # "reminder", "cancelled", "otp" …
    params: dict[str, str] = field(default_factory=dict)
    subject: str = ""
    text: str = ""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: SendOutcome
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None

    @classmethod
    def sent(cls, provider_message_id: str | None) -> SendResult:
        return cls(SendOutcome.sent, provider_message_id=provider_message_id)

    @classmethod
    def permanent(cls, code: str, message: str | None = None) -> SendResult:
        return cls(SendOutcome.permanent_failure, error_code=code, error_message=clean_message(message))

    @classmethod
    def throttled(cls, code: str, message: str | None = None, *, retry_after: float) -> SendResult:
        return cls(
            SendOutcome.throttled,
            error_code=code,
            error_message=clean_message(message),
            retry_after=retry_after,
        )

    @classmethod
    def unknown(cls, code: str, message: str | None = None) -> SendResult:
        return cls(SendOutcome.unknown, error_code=code, error_message=clean_message(message))


class Channel(abc.ABC):
    """A way to reach a person. ``send`` never raises for delivery problems: it reports them."""

    name: ClassVar[str]
    # True when a delivery receipt can come before the send's answer and name only the provider
    # id that answer carries: the receipt then waits until the row is recorded ``sent``.
    receipt_before_answer: ClassVar[bool] = False

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver ``message`` once; never retries a request that may have reached the provider."""

    async def aclose(self) -> None:
        """Release connections the channel keeps open (the SMTP one)."""
        return None


# Urgent messages go alone even when others share their template: providers deliver batches a
# little later (Aliyun advises single sends for codes and alerts).
SEND_ALONE = frozenset({"otp", "cancelled", "released"})


class BatchingChannel(Channel):
    """A channel whose provider takes many messages in one request (Aliyun SendBatchSms,
    Tencent SendSms with several numbers).

    The dispatcher groups claimed messages by ``batch_key`` into batches of at most ``max_batch``
    distinct recipients, so that (correlation id, phone) names one message in a receipt."""

    max_batch: ClassVar[int]

    @abc.abstractmethod
    def batch_key(self, message: OutboundMessage) -> str | None:
        """Messages with equal keys may share a request; None: this one goes alone."""

    @abc.abstractmethod
    async def send_batch(self, messages: Sequence[OutboundMessage], correlation_id: int) -> list[SendResult]:
        """Deliver ``messages`` (one key, distinct recipients) once; one result per message, in order."""


class ReportState(StrEnum):
    waiting = "waiting"  # accepted; the carrier has not reported yet
    delivered = "delivered"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class SentRecord:
    """One message a provider's query says it accepted for a phone."""

    correlation_id: str  # what went along with it: Aliyun ``OutId``, Tencent ``SessionContext``
    phone: str  # E.164
    state: ReportState
    error_code: str | None = None
    provider_message_id: str | None = None  # Tencent's SerialNo; Aliyun's query leaves out the BizId


class QueryFailed(Exception):
    """The provider did not answer a query (refused it, or no readable answer came)."""


class QueryingChannel(Channel):
    """A channel whose provider answers what became of the messages sent to one phone, so a
    send left ``unknown`` can be settled without sending again (see ``notify.resolution``)."""

    # True when the query lists a message from the moment it is accepted (Aliyun): one still
    # missing long after its send never reached the provider. False when it lists delivery
    # reports only (Tencent): there, silence proves nothing.
    lists_accepted: ClassVar[bool]
    query_days: ClassVar[int]  # how far back the provider answers

    @abc.abstractmethod
    async def query_sent(self, phone: str, sent_from: datetime, sent_until: datetime) -> list[SentRecord]:
        """What the provider has of the messages to ``phone`` (E.164) whose requests left between
        the two instants; raises ``QueryFailed``."""


def compact_json(value: object) -> str:
    """JSON as the providers take it in parameters and bodies: Chinese kept, no spaces."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def clean_message(message: str | None) -> str | None:
    """Provider messages may quote the recipient's number: mask it and bound the length."""
    if message is None:
        return None
    return mask_text(message)[:_MAX_ERROR_MESSAGE]


def transport_failure(exc: httpx.TransportError) -> SendResult:
    """Classify an HTTP failure by whether the request can have reached the provider."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # No byte of the request was sent: retrying cannot deliver the message twice.
        return SendResult.throttled("connect_failed", type(exc).__name__, retry_after=DEFAULT_RETRY_AFTER)
    # Read/write timeouts, dropped connections: the provider may have accepted the request.
    return SendResult.unknown("transport_error", type(exc).__name__)


def status_failure(response: httpx.Response) -> SendResult | None:
    """The outcome implied by the HTTP status alone, or None when the body must decide."""
    if response.status_code >= 500:
        return SendResult.unknown(f"http_{response.status_code}", response.reason_phrase)
    if response.status_code == 429:
        return SendResult.throttled("http_429", response.reason_phrase, retry_after=DEFAULT_RETRY_AFTER)
    return None
