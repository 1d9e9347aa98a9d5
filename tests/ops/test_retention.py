"""The purge deletes only what has done its work and is old enough, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import OtpCode
from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.clock import FixedClock
from coordinator.db import transaction
from coordinator.notify.models import DeliveryReceipt, Notification, NotificationStatus
from coordinator.retention import PURGE_CHUNK, purge_old_rows
from coordinator.settings import Settings
from tests.factories import create_person, create_station
from tests.notify.scripted import add_due

pytestmark = pytest.mark.usefixtures("database_url")
Maker = async_sessionmaker[AsyncSession]


async def _event(session: AsyncSession, at: datetime, *statuses: str, fanned_out: bool = True) -> int:
    event = OutboxEvent(
        event_type="EventPublished",
        aggregate_type="event",
        aggregate_id=1,
        payload={"event_id": 1},
        occurred_at=at,
        fanned_out=fanned_out,
    )
    session.add(event)
    await session.flush()
    for n, status in enumerate(statuses):
        session.add(OutboxDelivery(event_id=event.id, handler=f"h{n}", status=status, next_attempt_at=at))
    await session.flush()
    return event.id


async def _ids(sessionmaker: Maker, model: type[OutboxEvent | Notification | OtpCode]) -> set[int]:
    async with sessionmaker() as session:
        return set(await session.scalars(select(model.id)))


async def test_only_finished_old_events_notifications_and_codes_go(
    sessionmaker: Maker, clock: FixedClock, settings: Settings
) -> None:
    now = clock.now()
    old = now - timedelta(days=settings.outbox_retention_days + 1)
    recent = now - timedelta(days=settings.outbox_retention_days - 1)
    async with transaction(sessionmaker) as session:
        done_old = await _event(session, old, "done", "done")
        kept_events = {
            await _event(session, old, "done", "dead"),  # an operator must see the dead one
            await _event(session, old, "pending"),
            unfanned := await _event(session, old, fanned_out=False),  # no deliveries written yet
            await _event(session, recent, "done"),
        }

        person = await create_person(session, clock, await create_station(session, clock))
        for key in ("old-sent", "old-pending", "recent-sent"):
            await add_due(session, person, key=key, due=now)
        rows = {row.plan_key: row for row in await session.scalars(select(Notification))}
        long_ago = now - timedelta(days=settings.notification_retention_days + 1)
        for key, status, touched in (
            ("old-sent", NotificationStatus.delivered, long_ago),
            ("old-pending", NotificationStatus.pending, long_ago),
            ("recent-sent", NotificationStatus.sent, now - timedelta(days=1)),
        ):
            await session.execute(
                update(Notification)
                .where(Notification.id == rows[key].id)
                .values(status=status, updated_at=touched)
            )
        session.add(
            DeliveryReceipt(
                provider="sms_aliyun",
                provider_message_id="biz-1",
                phone=person.phone,
                notification_id=rows["old-sent"].id,
                delivered=True,
                received_at=long_ago,
            )
        )

        def code(expired: timedelta) -> OtpCode:
            return OtpCode(
                phone=person.phone,
                code_hash="x" * 64,
                request_ip="127.0.0.1",
                created_at=now - expired - timedelta(minutes=5),
                expires_at=now - expired,
            )

        spent, fresh = code(timedelta(days=2)), code(timedelta(hours=1))
        session.add_all([spent, fresh])

    deleted = await purge_old_rows(sessionmaker=sessionmaker, clock=clock, settings=settings)

    assert deleted == 3  # the done old event, the delivered old notification, the spent code
    assert await _ids(sessionmaker, OutboxEvent) == kept_events
    assert done_old not in await _ids(sessionmaker, OutboxEvent)
    remaining = {rows["old-pending"].id, rows["recent-sent"].id}
    assert await _ids(sessionmaker, Notification) == remaining
    async with sessionmaker() as session:
        assert list(await session.scalars(select(DeliveryReceipt))) == []
        # The kept events' deliveries stay (the one never fanned out has none); the purged one's go.
        assert set(await session.scalars(select(OutboxDelivery.event_id))) == kept_events - {unfanned}
    assert await _ids(sessionmaker, OtpCode) == {fresh.id}
    assert await purge_old_rows(sessionmaker=sessionmaker, clock=clock, settings=settings) == 0


async def test_a_backlog_goes_in_chunks_within_one_tick(
    sessionmaker: Maker, clock: FixedClock, settings: Settings
) -> None:
    old = clock.now() - timedelta(days=settings.outbox_retention_days + 1)
    async with transaction(sessionmaker) as session:
        for _ in range(PURGE_CHUNK + 5):
            await _event(session, old, "done")

    assert await purge_old_rows(sessionmaker=sessionmaker, clock=clock, settings=settings) == PURGE_CHUNK + 5
    assert await _ids(sessionmaker, OutboxEvent) == set()
