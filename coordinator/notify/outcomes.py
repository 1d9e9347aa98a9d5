"""What a send (or a receipt) means for a notification row, including the fallback channel.

Called inside a short transaction; never talks to a provider itself.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.notify import policy
from coordinator.notify.channels.base import SendOutcome, SendResult
from coordinator.notify.channels.wechat import REFUSALS
from coordinator.notify.metrics import NOTIFICATION_OUTCOMES
from coordinator.notify.models import URGENT_REASONS, Notification, NotificationStatus
from coordinator.notify.planning import insert_once, station_zone
from coordinator.notify.rendering import render
from coordinator.people.models import Person
from coordinator.settings import Settings

Status = NotificationStatus


def _error(result: SendResult) -> str:
    text = result.error_code or result.outcome.value
    return f"{text}: {result.error_message}" if result.error_message else text


@dataclass(frozen=True)
class Sent:
    """A message the provider accepted, in the attempt that claimed its row."""

    notification_id: int
    attempts: int
    channel: str  # the row's: "sms", "wechat" …
    provider: str  # the channel that sent it: "sms_aliyun" …
    provider_message_id: str | None


_TABLE = cast(Table, Notification.__table__)
# A row is still the attempt that claimed it while ``sending``, or ``unknown`` after a lost lease
# (the real answer is better than that guess).
_STILL_CLAIMED = or_(_TABLE.c.status == Status.sending.value, _TABLE.c.status == Status.unknown.value)


async def record_sent(session: AsyncSession, sent: Sequence[Sent], *, now: datetime) -> None:
    """``sent`` for each row still in the attempt that was claimed; how every success is recorded.

    A batch's rows share their answer: one UPDATE … WHERE id IN (…) each. Rows sent alone differ
    in their provider id: one executemany for all of them."""
    shared: dict[tuple[int, str, str | None], list[int]] = {}
    for one in sent:
        shared.setdefault((one.attempts, one.provider, one.provider_message_id), []).append(
            one.notification_id
        )
    values = {"status": Status.sent.value, "last_error": None, "lease_until": None, "updated_at": now}
    alone: list[dict[str, object]] = []
    for (attempts, provider, message_id), ids in shared.items():
        if len(ids) == 1:
            alone.append(
                {
                    "claimed_id": ids[0],
                    "claimed_attempts": attempts,
                    "sent_provider": provider,
                    "sent_message_id": message_id,
                }
            )
            continue
        await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id.in_(ids), _TABLE.c.attempts == attempts, _STILL_CLAIMED)
            .values(provider=provider, provider_message_id=message_id, **values)
        )
    if alone:
        stmt = (
            update(_TABLE)
            # Not IN (…): an expanding parameter cannot run as executemany.
            .where(_TABLE.c.id == bindparam("claimed_id"), _TABLE.c.attempts == bindparam("claimed_attempts"))
            .where(_STILL_CLAIMED)
            .values(
                provider=bindparam("sent_provider"),
                provider_message_id=bindparam("sent_message_id"),
                **values,
            )
        )
        await session.execute(stmt, alone)
    for one in sent:
        NOTIFICATION_OUTCOMES.labels(one.channel, Status.sent.value).inc()


async def record_unsent(
    session: AsyncSession,
    row: Notification,
    result: SendResult,
    *,
    now: datetime,
    settings: Settings,
    rng: random.Random,
    provider: str | None,
) -> None:
    """Record ``result``, any outcome but ``sent`` (``record_sent``), of the attempt that claimed
    ``row`` (the row locked)."""
    row.updated_at, row.lease_until = now, None
    if result.outcome is SendOutcome.unknown:
        # The provider may have the message: a resend could deliver it twice. A receipt or a
        # query of the provider decides (``resolution``).
        row.status, row.provider, row.last_error = Status.unknown, provider, _error(result)
    elif result.outcome is SendOutcome.throttled:
        await _retry_later(session, row, result, now=now, settings=settings, rng=rng)
    else:  # a permanent failure
        row.status, row.last_error = Status.failed, _error(result)
        if row.channel == "wechat" and result.error_code in REFUSALS:
            person = await session.get(Person, row.person_id)
            if person is not None:
                person.wechat_refusal = REFUSALS[result.error_code]
        await fall_back(session, row, now=now)
    NOTIFICATION_OUTCOMES.labels(row.channel, "retry" if row.status == Status.pending else row.status).inc()


async def send_again(
    session: AsyncSession, row: Notification, *, now: datetime, settings: Settings, reason: str
) -> None:
    """An ``unknown`` row the provider shows it never had: due again now (after quiet hours,
    unless urgent), ``expired`` when that misses its deadline, and after
    ``notify_max_attempts`` ``failed`` with the next channel, so a provider that keeps losing
    the request cannot keep the row going round."""
    row.updated_at, row.lease_until, row.last_error = now, None, reason
    when: datetime | None = now
    if row.reason not in URGENT_REASONS:
        when = await _outside_quiet_hours(session, row, now, now=now)
    if when is None or (row.deadline is not None and when >= row.deadline):
        row.status = Status.expired
    elif row.attempts >= settings.notify_max_attempts:
        row.status = Status.failed
        await fall_back(session, row, now=now)
    else:
        row.status, row.next_attempt_at = Status.pending, when
    NOTIFICATION_OUTCOMES.labels(row.channel, "retry" if row.status == Status.pending else row.status).inc()


async def _retry_later(
    session: AsyncSession,
    row: Notification,
    result: SendResult,
    *,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> None:
    row.last_error = _error(result)
    when: datetime | None = now + policy.retry_delay(row.attempts, result.retry_after, rng)
    if when is not None and row.reason not in URGENT_REASONS:
        when = await _outside_quiet_hours(session, row, when, now=now)
    too_late = when is None or (row.deadline is not None and when >= row.deadline)
    if row.attempts >= settings.notify_max_attempts or too_late:
        # Waiting out the throttle would miss the deadline: another channel may still make it.
        row.status = Status.failed if row.fallback_channels else Status.expired
        await fall_back(session, row, now=now)
        return
    assert when is not None
    row.status, row.next_attempt_at = Status.pending, when


async def _outside_quiet_hours(
    session: AsyncSession, row: Notification, when: datetime, *, now: datetime
) -> datetime | None:
    person = await session.get(Person, row.person_id)
    if person is None:
        return when
    return policy.outside_quiet_hours(
        when,
        now=now,
        deadline=row.deadline,
        zone=await station_zone(session, row.station_id),
        start=person.quiet_hours_start,
        end=person.quiet_hours_end,
    )


async def fall_back(session: AsyncSession, row: Notification, *, now: datetime) -> bool:
    """Plan the same message on the next usable channel of the row's chain, due now."""
    if row.deadline is not None and now >= row.deadline:
        return False
    person = await session.get(Person, row.person_id)
    context = row.payload.get("context")
    if person is None or not isinstance(context, dict):
        return False
    zone: ZoneInfo | None = None
    # The same template on the next channel (the confirm-or-release reminder stays one).
    template = str(row.payload.get("template_key") or row.reason)
    remaining = list(row.fallback_channels)
    while remaining:
        channel = remaining.pop(0)
        address = policy.address_for(person, channel)
        if not address or not policy.consents(person, channel):
            continue
        due: datetime | None = now
        if row.reason not in URGENT_REASONS:
            zone = zone or await station_zone(session, row.station_id)
            due = policy.outside_quiet_hours(
                now,
                now=now,
                deadline=row.deadline,
                zone=zone,
                start=person.quiet_hours_start,
                end=person.quiet_hours_end,
            )
        if due is None:
            return False
        return await insert_once(
            session,
            {
                "idempotency_key": f"{row.plan_key}:{channel}",
                "plan_key": row.plan_key,
                "station_id": row.station_id,
                "person_id": row.person_id,
                "event_id": row.event_id,
                "signup_id": row.signup_id,
                "reason": row.reason,
                "offset": row.offset,
                "channel": channel,
                "fallback_channels": remaining,
                "status": Status.pending.value,
                "due_at": due,
                "deadline": row.deadline,
                "attempts": 0,
                "next_attempt_at": due,
                "payload": render(template, channel, address, context),
                "created_at": now,
                "updated_at": now,
            },
        )
    return False
