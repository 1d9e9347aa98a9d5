from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class ChannelToken(Base):
    """A provider access token shared by every process (WeChat's lasts two hours).

    One row per provider account; it is read without a lock while valid and refreshed under a
    row lock, so many workers fetch a new token once instead of invalidating each other's."""

    __tablename__ = "channel_tokens"

    provider: Mapped[str] = mapped_column(String(80), primary_key=True)
    token: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WechatSubscription(Base):
    """How many one-time subscribe-message acceptances a WeChat user has left for a template.

    The mini program reports each ``requestSubscribeMessage`` result; every message sent with the
    template spends one (WeChat allows one message per acceptance)."""

    __tablename__ = "wechat_subscriptions"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class NotificationStatus(StrEnum):
    pending = "pending"  # waiting for ``next_attempt_at``
    sending = "sending"  # claimed by a dispatcher under a lease; the provider call is under way
    sent = "sent"  # the provider accepted it (``provider_message_id``)
    delivered = "delivered"  # a receipt says it reached the phone
    failed = "failed"  # the provider refused it for good (or a receipt says it never arrived)
    skipped = "skipped"  # policy said no: no consented channel, daily cap, quiet hours left no time
    expired = "expired"  # its deadline (the event's start) passed before it could go
    unknown = "unknown"  # the provider may have it (timeout, lost lease): a receipt or query decides
    cancelled = "cancelled"  # the reason went away (event cancelled, sign-up withdrawn, moved)


class NotificationReason(StrEnum):
    reminder = "reminder"
    changed = "changed"
    cancelled = "cancelled"
    promoted = "promoted"
    invited = "invited"
    otp = "otp"
    released = "released"  # to the organizer: a volunteer released their place (confirmations)
    # Training courses (``course_notices``); values fit ``Notification.reason`` (12 characters).
    enrol_invite = "enrol_invite"  # invited to a course: how to answer
    enrol_admit = "enrol_admit"  # an application approved
    enrol_reject = "enrol_reject"  # an application rejected


# Reasons that reach the person whatever their quiet hours and daily cap say.
URGENT_REASONS = frozenset(
    {NotificationReason.cancelled, NotificationReason.otp, NotificationReason.released}
)
# States a receipt may still change: the provider had (or may have had) the message.
RECEIPT_OPEN_STATUSES = (NotificationStatus.sent, NotificationStatus.unknown, NotificationStatus.sending)


# The rows the dispatcher and the resolver still work on; the rest (all history) never enter the
# due index, so it stays as small as the work in flight (at 100,000 due reminders PostgreSQL
# spent a third less CPU than with a full index).
IN_FLIGHT_SQL = "('pending', 'sending', 'unknown')"


class Notification(IdMixin, Base):
    """One message to one person on one channel for one reason.

    ``idempotency_key`` (unique) is built from ids and ISO strings only, so replaying the domain
    event that planned it, or a second worker, can never create a second row for the same
    message; the status machine (``pending`` → ``sending`` under a lease → ``sent`` …) makes sure
    a row is handed to a provider at most once."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The dispatcher's claim: due pending rows in (due, id) order, read off the index with its
        # LIMIT. Without ``id`` here a backlog due at one instant is sorted whole on every claim.
        Index(
            "ix_notifications_due",
            "status",
            "next_attempt_at",
            "id",
            postgresql_where=text(f"status IN {IN_FLIGHT_SQL}"),
            sqlite_where=text(f"status IN {IN_FLIGHT_SQL}"),
        ),
        Index("ix_notifications_event_person", "event_id", "person_id"),
        Index("ix_notifications_person_sent", "person_id", "sent_at"),
        Index("ix_notifications_provider_message", "provider_message_id"),
        Index("ix_notifications_batch", "batch_id"),
        Index("ix_notifications_station_id_id", "station_id", "id"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # The key without the channel: one plan (person, event, reason, offset) across its fallbacks.
    plan_key: Mapped[str] = mapped_column(String(200), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    signup_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[NotificationReason] = mapped_column(String(12))
    offset: Mapped[str] = mapped_column("reminder_offset", String(20), default="")  # ISO 8601, reminders
    channel: Mapped[str] = mapped_column(String(10))  # "wechat" | "sms" | "email" | "none"
    # Channels still to try, in order, if this one refuses the message for good.
    fallback_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[NotificationStatus] = mapped_column(String(12), default=NotificationStatus.pending)
    due_at: Mapped[datetime]  # when the message is meant to go (after quiet hours)
    deadline: Mapped[datetime | None]  # past this it is useless (the event has started)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    # Set when the row went in one provider request with others (Aliyun SendBatchSms): the
    # request's correlation id (Aliyun ``OutId``), the id of its first row. Written with the claim,
    # before the request leaves, so a receipt can find the row even if the worker dies.
    batch_id: Mapped[int | None] = mapped_column(Integer)
    # What was rendered: {"recipient", "template_key", "params", "subject", "text", "url"}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When the last attempt was handed to the provider (what the daily cap counts).
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


def in_flight_status(status: NotificationStatus) -> ColumnElement[bool]:
    """``status = '<status>'`` with the value written in the SQL, not bound: only then can the
    planner prove a query is within the due index's predicate and read the (small) partial index
    instead of the whole table. For the in-flight statuses only."""
    if f"'{status.value}'" not in IN_FLIGHT_SQL:
        raise ValueError(f"{status} rows are not in the due index")
    return Notification.status == literal_column(f"'{status.value}'")


class DeliveryReceipt(IdMixin, Base):
    """A provider's delivery report. Providers repeat them: one row per (provider, id, phone)."""

    __tablename__ = "delivery_receipts"
    __table_args__ = (UniqueConstraint("provider", "provider_message_id", "phone"),)

    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True
    )
    delivered: Mapped[bool] = mapped_column(Boolean)
    error_code: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime]
