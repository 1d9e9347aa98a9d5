"""The dispatcher tick: claim due notifications, send them outside any transaction, record outcomes.

A claim makes rows ``sending`` with a lease in one short transaction (``SKIP LOCKED`` on
PostgreSQL); the send runs with no transaction open, batched where the channel takes many; the
outcome is recorded only if the row is still the attempt this worker claimed. A row whose lease
ran out becomes ``unknown``, never ``pending`` (``resolution`` settles it). Why this sends each
message at most once: docs/concurrency.md, invariant 3."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.db import is_postgres, transaction
from coordinator.notify.channels import Channel, OutboundMessage, SendOutcome, SendResult
from coordinator.notify.channels.base import BatchingChannel
from coordinator.notify.confirmations.links import sendable_payload
from coordinator.notify.daily_cap import DailyCap, defer_past_cap
from coordinator.notify.metrics import NOTIFICATION_OUTCOMES
from coordinator.notify.models import URGENT_REASONS, Notification, NotificationStatus, in_flight_status
from coordinator.notify.outcomes import Sent, record_sent, record_unsent
from coordinator.notify.receipts import apply_waiting_receipts
from coordinator.settings import Settings

log = structlog.get_logger(__name__)
Status = NotificationStatus
_rng = random.SystemRandom()
LANES = 2
MAX_ROUNDS = 20


@dataclass(frozen=True)
class Claim:
    id: int
    attempts: int
    channel: str
    message: OutboundMessage
    batch_id: int | None = None  # the first row's id when the row shares a provider request


Batch = list[Claim]  # one provider request: a single claim, or several sharing a ``batch_id``


async def dispatch_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    channels: Mapping[str, Channel],
    rng: random.Random | None = None,
) -> int:
    """One tick: answers how many notifications were handed to a channel.

    After a full batch the tick keeps claiming while full batches come back (a backlog drains at
    full speed instead of one batch per interval), in ``LANES`` concurrent lanes so one lane's
    claim and record overlap the other's provider calls; ``MAX_ROUNDS`` bounds a lane so a tick
    (and shutdown) never runs long."""
    limit = asyncio.Semaphore(settings.notify_send_concurrency)

    async def send(batch: Batch) -> list[tuple[Claim, SendResult]]:
        async with limit:
            return list(zip(batch, await deliver_batch(channels, batch, settings), strict=True))

    async def one_round() -> int:
        batches = await claim_due(sessionmaker, clock, settings, channels)
        if batches:
            sent = await asyncio.gather(*(send(batch) for batch in batches))
            results = [pair for pairs in sent for pair in pairs]
            await record(sessionmaker, clock, settings, results, channels=channels, rng=rng or _rng)
        return sum(len(batch) for batch in batches)

    async def lane() -> int:
        handed = 0
        for _ in range(MAX_ROUNDS):
            claimed = await one_round()
            handed += claimed
            if claimed < settings.notify_batch_size:
                break
        return handed

    first = await one_round()
    if first < settings.notify_batch_size:
        return first  # no backlog: one claim per tick, as the interval intends
    return first + sum(await asyncio.gather(*(lane() for _ in range(LANES))))


async def deliver_batch(
    channels: Mapping[str, Channel], batch: Batch, settings: Settings
) -> list[SendResult]:
    first = batch[0]
    channel = channels.get(first.channel)
    if len(batch) == 1 or not isinstance(channel, BatchingChannel) or first.batch_id is None:
        return [await deliver(channels, first.channel, first.message, settings)]
    messages, batch_id = [claim.message for claim in batch], first.batch_id
    return await _bounded(
        lambda: channel.send_batch(messages, batch_id),
        len(batch),
        settings,
        batch_id=batch_id,
        channel=first.channel,
    )


async def deliver(
    channels: Mapping[str, Channel], channel_name: str, message: OutboundMessage, settings: Settings
) -> SendResult:
    channel = channels.get(channel_name)
    if channel is None:
        return SendResult.permanent("channel_not_configured", channel_name)

    async def alone() -> list[SendResult]:
        return [await channel.send(message)]

    [result] = await _bounded(
        alone, 1, settings, notification_id=message.notification_id, channel=channel_name
    )
    return result


async def _bounded(
    send: Callable[[], Awaitable[list[SendResult]]], count: int, settings: Settings, **context: object
) -> list[SendResult]:
    """One provider request within ``notify_send_timeout_seconds``. No answer, or a bug in the
    channel, leaves its ``count`` messages ``unknown``: the request may have left, so they must not
    be lost, nor sent again blindly."""
    try:
        async with asyncio.timeout(settings.notify_send_timeout_seconds):
            return await send()
    except TimeoutError:
        result = SendResult.unknown("send_timeout", f"no answer in {settings.notify_send_timeout_seconds}s")
    except Exception as exc:
        log.exception("channel_send_failed", **context)
        result = SendResult.unknown("send_error", type(exc).__name__)
    return [result] * count


async def claim_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    channels: Mapping[str, Channel],
) -> list[Batch]:
    async with transaction(sessionmaker) as session:
        now = clock.now()
        await expire_leases(session, now)
        stmt = (
            select(Notification)
            .where(in_flight_status(Status.pending), Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(settings.notify_batch_size)
        )
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(await session.scalars(stmt))
        capped = DailyCap(session, settings.notify_daily_cap, now)
        await capped.count_handed_over(rows)
        claimed: list[Notification] = []
        expired: list[int] = []
        for row in rows:
            if row.deadline is not None and now >= row.deadline:
                expired.append(row.id)
                NOTIFICATION_OUTCOMES.labels(row.channel, "expired").inc()
                continue
            if row.reason not in URGENT_REASONS and await capped.reached(row):
                await defer_past_cap(session, row, now)
                continue
            claimed.append(row)
        await session.flush()  # the deferred rows, if any
        if expired:
            await session.execute(
                update(Notification)
                .where(Notification.id.in_(expired))
                .values(status=Status.expired, last_error="deadline_passed", updated_at=now)
                .execution_options(synchronize_session=False)
            )
        if not claimed:
            return []
        batches = group_batches(
            [Claim(row.id, row.attempts + 1, row.channel, message_of(row, settings)) for row in claimed],
            channels,
        )
        # One statement per provider request at most (singles share one): the rows are locked by
        # the SELECT above, so ``attempts + 1`` is the value read plus one.
        by_batch_id: dict[int | None, list[int]] = {}
        for batch in batches:
            by_batch_id.setdefault(batch[0].batch_id, []).extend(claim.id for claim in batch)
        for batch_id, ids in by_batch_id.items():
            await session.execute(
                update(Notification)
                .where(Notification.id.in_(ids))
                .values(
                    status=Status.sending,
                    attempts=Notification.attempts + 1,
                    lease_until=now + timedelta(seconds=settings.notify_lease_seconds),
                    sent_at=now,
                    updated_at=now,
                    batch_id=batch_id,
                )
                .execution_options(synchronize_session=False)
            )
        return batches


def group_batches(claims: Sequence[Claim], channels: Mapping[str, Channel]) -> list[Batch]:
    """Claims a batching channel can carry together, in batches of at most ``max_batch`` with
    distinct recipients (a receipt names the batch and the phone); the rest one by one."""
    batches: list[Batch] = []
    # Per channel and key, the batches being filled, each with the recipients it holds.
    filling: dict[tuple[str, str], list[tuple[Batch, set[str]]]] = {}
    for claim in claims:
        channel = channels.get(claim.channel)
        key = channel.batch_key(claim.message) if isinstance(channel, BatchingChannel) else None
        if not isinstance(channel, BatchingChannel) or key is None:
            batches.append([claim])
            continue
        candidates = filling.setdefault((claim.channel, key), [])
        recipient = claim.message.recipient
        found = next(
            (pair for pair in candidates if len(pair[0]) < channel.max_batch and recipient not in pair[1]),
            None,
        )
        if found is None:
            candidates.append(([claim], {recipient}))
        else:
            found[0].append(claim)
            found[1].add(recipient)
    for batch, _ in (pair for candidates in filling.values() for pair in candidates):
        if len(batch) == 1:
            batches.append(batch)  # alone after all: an ordinary send under its own id
        else:
            batches.append([replace(claim, batch_id=batch[0].id) for claim in batch])
    return batches


def message_of(row: Notification, settings: Settings) -> OutboundMessage:
    # A template this deployment cannot send (yet) goes as the plain one (``sendable_payload``).
    return outbound(row.id, row.channel, sendable_payload(settings, row.channel, row.payload), row.reason)


def outbound(notification_id: int, channel: str, payload: Mapping[str, Any], reason: str) -> OutboundMessage:
    """The message a payload made by ``rendering.render`` describes."""
    return OutboundMessage(
        notification_id=notification_id,
        channel=channel,
        recipient=str(payload.get("recipient", "")),
        template_key=str(payload.get("template_key", reason)),
        params={str(k): str(v) for k, v in dict(payload.get("params") or {}).items()},
        subject=str(payload.get("subject") or ""),
        text=str(payload.get("text") or ""),
        url=payload.get("url") or None,
    )


async def expire_leases(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        update(Notification)
        .where(in_flight_status(Status.sending), Notification.lease_until < now)
        .values(status=Status.unknown, last_error="lease_expired", lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def record(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    results: Sequence[tuple[Claim, SendResult]],
    *,
    channels: Mapping[str, Channel],
    rng: random.Random = _rng,
) -> None:
    """Each result, for its row only while the row is still the attempt that was claimed."""
    async with transaction(sessionmaker) as session:
        now = clock.now()
        sent = [(claim, result) for claim, result in results if result.outcome is SendOutcome.sent]
        await record_sent(session, [_sent(claim, result, channels) for claim, result in sent], now=now)
        early = [claim.id for claim, _ in sent if channels[claim.channel].receipt_before_answer]
        await apply_waiting_receipts(session, early, now=now)
        unsent = [(claim, result) for claim, result in results if result.outcome is not SendOutcome.sent]
        if unsent:
            await _record_unsent(session, unsent, channels, now=now, settings=settings, rng=rng)


def _sent(claim: Claim, result: SendResult, channels: Mapping[str, Channel]) -> Sent:
    provider = channels[claim.channel].name  # a channel that is not configured sends nothing
    return Sent(claim.id, claim.attempts, claim.channel, provider, result.provider_message_id)


async def _record_unsent(
    session: AsyncSession,
    unsent: list[tuple[Claim, SendResult]],
    channels: Mapping[str, Channel],
    *,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> None:
    stmt = select(Notification).where(Notification.id.in_([claim.id for claim, _ in unsent]))
    stmt = stmt.order_by(Notification.id)
    locked = stmt.with_for_update() if is_postgres(session) else stmt
    rows = {row.id: row for row in await session.scalars(locked)}
    for claim, result in unsent:
        row = rows.get(claim.id)
        # A lease that ran out made it ``unknown``; the real answer is better than that guess.
        if (
            row is None
            or row.attempts != claim.attempts
            or row.status not in (Status.sending, Status.unknown)
        ):
            continue
        channel = channels.get(claim.channel)
        provider = channel.name if channel is not None else None
        await record_unsent(session, row, result, now=now, settings=settings, rng=rng, provider=provider)
