"""The purge of rows that have done their work, so a station's tables do not grow forever.

- Domain events whose every handler is ``done``, older than ``outbox_retention_days``; an event
  with a delivery still pending, running or ``dead`` stays (a dead one is for an operator to see).
- Notifications in a final state not touched for ``notification_retention_days`` (more than a
  year by default), with their receipts: a receipt's own row says nothing alone.
- Login codes a day past their expiry: the per-phone and per-address limits count the last day.
- Password login attempts older than the window the login limits count.
Each kind goes in chunks of ``PURGE_CHUNK`` rows, one short transaction each, so the purge never
holds locks the dispatcher or the relay would wait on; ``MAX_CHUNKS`` bounds one tick."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import LoginAttempt, OtpCode
from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.notify.models import DeliveryReceipt, Notification, NotificationStatus
from coordinator.settings import Settings

PURGE_CHUNK = 1_000
MAX_CHUNKS = 50
OTP_KEPT_AFTER_EXPIRY = timedelta(days=1)
FINAL_NOTIFICATION_STATUSES = (
    NotificationStatus.sent,
    NotificationStatus.delivered,
    NotificationStatus.failed,
    NotificationStatus.skipped,
    NotificationStatus.expired,
    NotificationStatus.cancelled,
)


async def purge_old_rows(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """One tick: answers how many rows were deleted (events, notifications, login codes and attempts)."""
    now = clock.now()
    settled_events = (
        select(OutboxEvent.id)
        .where(
            OutboxEvent.fanned_out.is_(True),
            OutboxEvent.occurred_at < now - timedelta(days=settings.outbox_retention_days),
            ~exists().where(OutboxDelivery.event_id == OutboxEvent.id, OutboxDelivery.status != "done"),
        )
        .order_by(OutboxEvent.id)
    )
    old_notifications = (
        select(Notification.id)
        .where(
            Notification.status.in_(FINAL_NOTIFICATION_STATUSES),
            Notification.updated_at < now - timedelta(days=settings.notification_retention_days),
        )
        .order_by(Notification.id)
    )
    spent_codes = (
        select(OtpCode.id).where(OtpCode.expires_at < now - OTP_KEPT_AFTER_EXPIRY).order_by(OtpCode.id)
    )
    old_attempts = (
        select(LoginAttempt.id)
        .where(LoginAttempt.attempted_at < now - timedelta(seconds=settings.login_failure_window_seconds))
        .order_by(LoginAttempt.id)
    )
    deleted = await _in_chunks(sessionmaker, settled_events, _delete_events)
    deleted += await _in_chunks(sessionmaker, old_notifications, _delete_notifications)
    deleted += await _in_chunks(sessionmaker, spent_codes, _deleting(OtpCode))
    deleted += await _in_chunks(sessionmaker, old_attempts, _deleting(LoginAttempt))
    return deleted


async def _in_chunks(
    sessionmaker: async_sessionmaker[AsyncSession],
    ids_query: Select[Any],
    delete_ids: Callable[[AsyncSession, list[int]], Awaitable[None]],
) -> int:
    deleted = 0
    for _ in range(MAX_CHUNKS):
        async with transaction(sessionmaker) as session:
            ids = list(await session.scalars(ids_query.limit(PURGE_CHUNK)))
            if ids:
                await delete_ids(session, ids)
        deleted += len(ids)
        if len(ids) < PURGE_CHUNK:
            break
    return deleted


async def _delete_events(session: AsyncSession, ids: list[int]) -> None:
    # Deliveries first: SQLite enforces the foreign key only where the pragma is on.
    await session.execute(delete(OutboxDelivery).where(OutboxDelivery.event_id.in_(ids)))
    await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(ids)))


async def _delete_notifications(session: AsyncSession, ids: list[int]) -> None:
    await session.execute(delete(DeliveryReceipt).where(DeliveryReceipt.notification_id.in_(ids)))
    await session.execute(delete(Notification).where(Notification.id.in_(ids)))


def _deleting(model: type[OtpCode | LoginAttempt]) -> Callable[[AsyncSession, list[int]], Awaitable[None]]:
    """Deletes rows of ``model`` by id (rows nothing else refers to)."""

    async def delete_ids(session: AsyncSession, ids: list[int]) -> None:
        await session.execute(delete(model).where(model.id.in_(ids)))

    return delete_ids
