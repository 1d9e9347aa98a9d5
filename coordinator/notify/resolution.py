"""Settle SMS left ``unknown`` (the send timed out, or its worker's lease ran out) by asking the
provider what became of them: never by sending again blindly.

The ``resolve_unknown_notifications`` tick claims old enough ``unknown`` rows, asks the provider
by our correlation id with no transaction open, and applies what it learned: a delivery report
is recorded like a pushed receipt; "waiting for the carrier" leaves the row ``unknown``; only a
message Aliyun never listed goes again (``outcomes.send_again``). Tencent lists reports only, so
its rows wait for one. Details: docs/concurrency.md, invariant 3."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.db import is_postgres, transaction
from coordinator.notify.channels import Channel
from coordinator.notify.channels.base import QueryFailed, QueryingChannel, ReportState, SentRecord
from coordinator.notify.metrics import RESOLUTIONS
from coordinator.notify.models import Notification, NotificationStatus, in_flight_status
from coordinator.notify.outcomes import send_again
from coordinator.notify.receipts import Receipt, record_receipts
from coordinator.settings import Settings

log = structlog.get_logger(__name__)
Status = NotificationStatus
# Rows asked about per tick, and queries in flight at once: a tick stays short.
RESOLVE_BATCH = 100
QUERY_CONCURRENCY = 4
LONGEST_WAIT = timedelta(days=1)
NEVER_ACCEPTED = "not_at_provider: its query did not list the message"


@dataclass(frozen=True)
class Asked:
    """A claimed row, as the query needs it."""

    id: int
    attempts: int
    phone: str  # E.164
    correlation_id: str
    sent_at: datetime


async def resolve_unknown(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    channels: Mapping[str, Channel],
) -> int:
    """One tick: answers how many ``unknown`` rows the provider was asked about."""
    sms = channels.get("sms")
    if not isinstance(sms, QueryingChannel):
        return 0  # the console, or a provider without a query: receipts only
    asked = await claim_unknown(sessionmaker, clock, settings, sms)
    if not asked:
        return 0
    answers = await ask_provider(sms, asked, settings)
    async with transaction(sessionmaker) as session:
        await apply_answers(session, clock, settings, sms, asked, answers)
    return len(asked)


async def claim_unknown(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings, sms: QueryingChannel
) -> list[Asked]:
    async with transaction(sessionmaker) as session:
        now = clock.now()
        stmt = (
            select(Notification)
            .where(
                in_flight_status(Status.unknown),
                Notification.channel == "sms",
                or_(Notification.provider == sms.name, Notification.provider.is_(None)),
                Notification.next_attempt_at <= now,
                Notification.sent_at <= now - timedelta(seconds=settings.notify_resolve_min_age_seconds),
                Notification.sent_at > now - timedelta(days=sms.query_days),
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(RESOLVE_BATCH)
        )
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        asked: list[Asked] = []
        for row in await session.scalars(stmt):
            sent_at = row.sent_at or now  # always set by the claim that sent it
            row.next_attempt_at = now + _next_wait(now - sent_at, settings)
            phone = str(row.payload.get("recipient") or "")
            if phone:
                asked.append(Asked(row.id, row.attempts, phone, str(row.batch_id or row.id), sent_at))
        return asked


def _next_wait(age: timedelta, settings: Settings) -> timedelta:
    """Half the row's age: asked often while young, rarely once old (at least one interval)."""
    return max(timedelta(seconds=settings.notify_resolve_interval_seconds), min(age / 2, LONGEST_WAIT))


async def ask_provider(
    sms: QueryingChannel, asked: list[Asked], settings: Settings
) -> dict[str, list[SentRecord]]:
    """The provider's records per phone; a phone whose query failed is left out."""
    by_phone: dict[str, list[Asked]] = {}
    for row in asked:
        by_phone.setdefault(row.phone, []).append(row)
    limit = asyncio.Semaphore(QUERY_CONCURRENCY)
    timeout = settings.notify_send_timeout_seconds

    async def ask(phone: str, rows: list[Asked]) -> tuple[str, list[SentRecord] | None]:
        sent_from = min(row.sent_at for row in rows)
        sent_until = max(row.sent_at for row in rows) + timedelta(seconds=timeout)
        async with limit:
            try:
                async with asyncio.timeout(timeout):
                    return phone, await sms.query_sent(phone, sent_from, sent_until)
            except (QueryFailed, TimeoutError) as exc:
                log.warning("provider_query_failed", provider=sms.name, error=str(exc) or type(exc).__name__)
                return phone, None

    answered = await asyncio.gather(*(ask(phone, rows) for phone, rows in by_phone.items()))
    return {phone: records for phone, records in answered if records is not None}


async def apply_answers(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    sms: QueryingChannel,
    asked: list[Asked],
    answers: dict[str, list[SentRecord]],
) -> None:
    now = clock.now()
    # The request may have left as late as the send timeout after the claim.
    missing_since = timedelta(
        seconds=settings.notify_resolve_missing_after_seconds + settings.notify_send_timeout_seconds
    )
    receipts: list[Receipt] = []
    never_accepted: list[Asked] = []
    results: Counter[str] = Counter()
    for row in asked:
        records = answers.get(row.phone)
        if records is None:
            results["query_failed"] += 1
            continue
        mine = [record for record in records if record.correlation_id == row.correlation_id]
        settled = _settled(mine)
        if settled is not None:
            receipts.append(_receipt(sms, row, settled))
            results["report"] += 1
        elif not mine and sms.lists_accepted and now - row.sent_at >= missing_since:
            never_accepted.append(row)
        else:
            results["waiting" if mine else "not_listed"] += 1
    await record_receipts(session, clock, receipts)
    for row in never_accepted:
        sent_again = await _send_again_if_unchanged(session, row, now=now, settings=settings)
        results["sent_again" if sent_again else "settled_meanwhile"] += 1
    for result, count in results.items():
        RESOLUTIONS.labels(sms.name, result).inc(count)


def _settled(records: list[SentRecord]) -> SentRecord | None:
    """The delivery report among the records, if any (delivered first: it reached the phone)."""
    for state in (ReportState.delivered, ReportState.failed):
        found = next((record for record in records if record.state is state), None)
        if found is not None:
            return found
    return None


def _receipt(sms: QueryingChannel, row: Asked, record: SentRecord) -> Receipt:
    return Receipt(
        provider=sms.name,
        provider_message_id=record.provider_message_id,
        phone=row.phone,
        delivered=record.state is ReportState.delivered,
        error_code=record.error_code,
        notification_id=int(row.correlation_id),
    )


async def _send_again_if_unchanged(
    session: AsyncSession, asked: Asked, *, now: datetime, settings: Settings
) -> bool:
    """Only the attempt that was asked about: a receipt or another worker may have settled it
    (then False)."""
    stmt = select(Notification).where(
        Notification.id == asked.id,
        Notification.status == Status.unknown,
        Notification.attempts == asked.attempts,
    )
    if is_postgres(session):
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        return False
    await send_again(session, row, now=now, settings=settings, reason=NEVER_ACCEPTED)
    return True
