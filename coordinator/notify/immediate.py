"""Messages their caller sends at once, after its commit, instead of the dispatcher: a login code.

The row is stored in the caller's transaction already ``sending`` in its one attempt, so no
dispatcher claims it, and with words fit to keep (a code masked); ``send_now`` then sends the real
words once and records the outcome as the dispatcher records its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.notify.channels import Channel, SendOutcome, SendResult
from coordinator.notify.dispatcher import Claim, deliver, outbound, record
from coordinator.notify.models import Notification, NotificationReason, NotificationStatus
from coordinator.notify.rendering import render
from coordinator.settings import Settings

ATTEMPT = 1  # the row's only attempt: it is never sent again


async def store_immediate(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    key: str,
    reason: NotificationReason,
    channel: str,
    recipient: str,
    person_id: int,
    station_id: int,
    deadline: datetime,
    stored_context: dict[str, str],
) -> int:
    """The row of a message ``send_now`` will send (``stored_context`` words it for the record);
    answers its id."""
    now = clock.now()
    row = Notification(
        idempotency_key=f"{key}:{channel}",
        plan_key=key,
        station_id=station_id,
        person_id=person_id,
        reason=reason,
        offset="",
        channel=channel,
        fallback_channels=[],
        status=NotificationStatus.sending,
        due_at=now,
        deadline=deadline,
        attempts=ATTEMPT,
        next_attempt_at=now,
        lease_until=now + timedelta(seconds=settings.notify_lease_seconds),
        payload=render(reason, channel, recipient, stored_context),
        created_at=now,
        updated_at=now,
        sent_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def send_now(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    channels: Mapping[str, Channel],
    notification_id: int,
    reason: NotificationReason,
    channel: str,
    recipient: str,
    context: dict[str, str],
) -> SendResult:
    """Send a committed row's message worded with ``context``, and record the outcome. A
    throttled send is recorded as failed: the row keeps no words to send again, and a late
    message of this kind is of no use (the person asks again)."""
    message = outbound(notification_id, channel, render(reason, channel, recipient, context), reason)
    result = await deliver(channels, channel, message, settings)
    recorded = result
    if result.outcome is SendOutcome.throttled:
        recorded = SendResult.permanent(result.error_code or "throttled", result.error_message)
    claim = Claim(notification_id, ATTEMPT, channel, message)
    await record(sessionmaker, clock, settings, [(claim, recorded)], channels=channels)
    return result
