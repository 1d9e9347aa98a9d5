"""The dispatcher tick: claim due notifications, send them outside any transaction, record outcomes.

Exactly-once, as far as providers allow:
- Claim (one short transaction): due ``pending`` rows, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so
  concurrent workers take disjoint rows (SQLite serializes writers with ``BEGIN IMMEDIATE``); each
  becomes ``sending`` with a lease and ``attempts + 1`` before the transaction commits. Only the
  worker that committed the claim sends the row.
- Send: with no transaction open, bounded by ``notify_send_timeout_seconds``.
- Record (a second short transaction): only if the row is still the attempt this worker claimed
  (same ``attempts``), so a late answer never overwrites a newer state.
- A row still ``sending`` after its lease (the worker died mid-send) becomes ``unknown``, never
  ``pending``: the provider may have it, so only a receipt resolves it.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.db import is_postgres, transaction
from coordinator.notify import policy
from coordinator.notify.channels import Channel, OutboundMessage, SendOutcome, SendResult
from coordinator.notify.metrics import NOTIFICATION_OUTCOMES
from coordinator.notify.models import URGENT_REASONS, Notification, NotificationStatus
from coordinator.notify.outcomes import apply_result
from coordinator.notify.planning import station_zone
from coordinator.notify.receipts import TENCENT, apply_waiting_receipt
from coordinator.notify.runtime import channel_holder
from coordinator.people.models import Person
from coordinator.settings import Settings

log = structlog.get_logger(__name__)
Status = NotificationStatus
# Handed to a provider today (counts against the daily cap).
_HANDED_OVER = (Status.sending, Status.sent, Status.delivered, Status.unknown)
_rng = random.SystemRandom()


@dataclass(frozen=True)
class Claim:
    id: int
    attempts: int
    channel: str
    message: OutboundMessage


async def dispatch_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    channels: dict[str, Channel] | None = None,
    rng: random.Random | None = None,
) -> int:
    """One tick: answers how many notifications were handed to a channel."""
    if channels is None:
        channels = channel_holder.get(settings=settings, sessionmaker=sessionmaker, clock=clock)
    claims = await claim_due(sessionmaker, clock, settings)
    if not claims:
        return 0
    limit = asyncio.Semaphore(settings.notify_send_concurrency)

    async def send(claim: Claim) -> tuple[Claim, SendResult]:
        async with limit:
            return claim, await deliver(channels, claim.channel, claim.message, settings)

    results = await asyncio.gather(*(send(claim) for claim in claims))
    await record(sessionmaker, clock, settings, results, channels=channels, rng=rng or _rng)
    return len(claims)


async def deliver(
    channels: dict[str, Channel], channel_name: str, message: OutboundMessage, settings: Settings
) -> SendResult:
    channel = channels.get(channel_name)
    if channel is None:
        return SendResult.permanent("channel_not_configured", channel_name)
    try:
        async with asyncio.timeout(settings.notify_send_timeout_seconds):
            return await channel.send(message)
    except TimeoutError:
        return SendResult.unknown("send_timeout", f"no answer in {settings.notify_send_timeout_seconds}s")
    except Exception as exc:  # a bug in a channel must not lose the row: the request may have left
        log.exception("channel_send_failed", notification_id=message.notification_id, channel=channel_name)
        return SendResult.unknown("send_error", type(exc).__name__)


async def claim_due(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> list[Claim]:
    async with transaction(sessionmaker) as session:
        now = clock.now()
        await expire_leases(session, now)
        stmt = (
            select(Notification)
            .where(Notification.status == Status.pending, Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(settings.notify_batch_size)
        )
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(await session.scalars(stmt))
        capped = _DailyCap(session, settings.notify_daily_cap, now)
        claims: list[Claim] = []
        for row in rows:
            if row.deadline is not None and now >= row.deadline:
                row.status, row.last_error, row.updated_at = Status.expired, "deadline_passed", now
                NOTIFICATION_OUTCOMES.labels(row.channel, "expired").inc()
                continue
            if row.reason not in URGENT_REASONS and await capped.reached(row):
                await _defer_past_cap(session, row, now)
                continue
            row.status, row.attempts, row.updated_at = Status.sending, row.attempts + 1, now
            row.lease_until = now + timedelta(seconds=settings.notify_lease_seconds)
            row.sent_at = now
            claims.append(Claim(row.id, row.attempts, row.channel, message_of(row)))
        return claims


def message_of(row: Notification) -> OutboundMessage:
    payload = row.payload
    return OutboundMessage(
        notification_id=row.id,
        channel=row.channel,
        recipient=str(payload.get("recipient", "")),
        template_key=str(payload.get("template_key", row.reason)),
        params={str(k): str(v) for k, v in dict(payload.get("params") or {}).items()},
        subject=str(payload.get("subject") or ""),
        text=str(payload.get("text") or ""),
        url=payload.get("url") or None,
    )


async def expire_leases(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.status == Status.sending, Notification.lease_until < now)
        .values(status=Status.unknown, last_error="lease_expired", lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


class _DailyCap:
    """Non-urgent messages handed over per person per local day, counted in this claim too.

    The count is read in the claim transaction; two workers claiming for the same person at the
    same instant may each pass it, so the cap can be exceeded by at most one per worker."""

    def __init__(self, session: AsyncSession, cap: int, now: datetime) -> None:
        self._session, self._cap, self._now = session, cap, now
        self._counts: dict[int, int] = {}
        self._zones: dict[int, ZoneInfo] = {}

    async def reached(self, row: Notification) -> bool:
        if row.person_id not in self._counts:
            zone = self._zones.get(row.station_id) or await station_zone(self._session, row.station_id)
            self._zones[row.station_id] = zone
            start, end = policy.local_day_bounds(self._now, zone)
            counted = await self._session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.person_id == row.person_id,
                    Notification.status.in_(_HANDED_OVER),
                    Notification.reason.not_in(URGENT_REASONS),
                    Notification.sent_at >= start,
                    Notification.sent_at < end,
                )
            )
            self._counts[row.person_id] = int(counted or 0)
        if self._counts[row.person_id] >= self._cap:
            return True
        self._counts[row.person_id] += 1
        return False


async def _defer_past_cap(session: AsyncSession, row: Notification, now: datetime) -> None:
    """Move the row to the person's next day (after quiet hours), or skip it if that is too late."""
    zone = await station_zone(session, row.station_id)
    person = await session.get(Person, row.person_id)
    when = policy.local_day_bounds(now, zone)[1]
    # Tomorrow's first waking moment: pulling it before quiet hours would land it today again.
    window = (
        policy.quiet_window(when, zone, person.quiet_hours_start, person.quiet_hours_end) if person else None
    )
    when = window[1] if window else when
    row.updated_at, row.last_error = now, "daily_cap"
    if row.deadline is not None and when >= row.deadline:
        row.status = Status.skipped
        NOTIFICATION_OUTCOMES.labels(row.channel, "skipped").inc()
    else:
        row.next_attempt_at = when


async def record(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    results: list[tuple[Claim, SendResult]],
    *,
    channels: dict[str, Channel],
    rng: random.Random,
) -> None:
    async with transaction(sessionmaker) as session:
        now = clock.now()
        ids = [claim.id for claim, _ in results]
        stmt = select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
        if is_postgres(session):
            stmt = stmt.with_for_update()
        rows = {row.id: row for row in await session.scalars(stmt)}
        for claim, result in results:
            row = rows.get(claim.id)
            # A lease that ran out made it ``unknown``; the real answer is better than that guess.
            if row is None or row.attempts != claim.attempts:
                continue
            if row.status not in (Status.sending, Status.unknown):
                continue
            channel = channels.get(claim.channel)
            await apply_result(
                session,
                row,
                result,
                now=now,
                settings=settings,
                rng=rng,
                provider=channel.name if channel is not None else None,
            )
            if result.outcome is SendOutcome.sent and row.provider == TENCENT:
                # Tencent's receipt names only its serial number, which we learn with the answer.
                await apply_waiting_receipt(session, row, now=now)
