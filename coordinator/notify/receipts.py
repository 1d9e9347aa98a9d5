"""Delivery receipts pushed by the SMS providers (or found by querying them, see ``resolution``):
``delivered`` or ``failed`` for a sent message.

Providers repeat receipts (Aliyun retries after 1, 5 and 10 minutes until answered), so each is
stored once under the unique key (provider, provider message id, phone) with ``ON CONFLICT DO
NOTHING``; a repeat finds its row already there and changes nothing. A receipt also resolves a
notification left ``unknown`` (a timeout, a lost lease): Aliyun's ``out_id`` is our id (for a
batch, its ``batch_id``) and the phone picks the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.clock import Clock
from coordinator.db import is_postgres
from coordinator.notify.metrics import NOTIFICATION_OUTCOMES, RECEIPTS
from coordinator.notify.models import (
    RECEIPT_OPEN_STATUSES,
    DeliveryReceipt,
    Notification,
    NotificationStatus,
)
from coordinator.notify.outcomes import fall_back

ALIYUN = "sms_aliyun"
TENCENT = "sms_tencent"


@dataclass(frozen=True)
class Receipt:
    provider: str  # the channel name that sent it: "sms_aliyun" | "sms_tencent"
    # None where the provider does not say (Aliyun's QuerySendDetails): then stored under our id.
    provider_message_id: str | None
    phone: str  # E.164
    delivered: bool
    error_code: str | None = None
    notification_id: int | None = None  # our correlation id, when the provider echoes it


def e164(phone: str, country_code: str = "86") -> str:
    """A pushed phone number in E.164; ValueError (a malformed push) beyond its 15 digits."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.startswith("+"):
        number = f"+{digits}"
    elif len(digits) == 11 and country_code == "86":
        number = f"+86{digits}"
    else:
        number = f"+{country_code}{digits}"
    return pushed(number, 16)


def pushed(value: str, limit: int) -> str:
    """A pushed value that fits its column; ValueError (a malformed push) otherwise."""
    if len(value) > limit:
        raise ValueError(f"{value[:20]}… is longer than {limit} characters")
    return value


async def record_receipts(session: AsyncSession, clock: Clock, receipts: list[Receipt]) -> int:
    """Store each new receipt and apply it to its notification; answers how many were new."""
    new = 0
    for receipt in receipts:
        receipt_id = await _insert_once(session, receipt, clock.now())
        RECEIPTS.labels(receipt.provider, "delivered" if receipt.delivered else "failed").inc()
        if receipt_id is None:
            continue  # a repeat: applied the first time
        new += 1
        row = await _notification_for(session, receipt)
        if row is not None:
            await session.execute(
                update(DeliveryReceipt).where(DeliveryReceipt.id == receipt_id).values(notification_id=row.id)
            )
            await apply_receipt(session, row, receipt, now=clock.now())
    return new


async def _insert_once(session: AsyncSession, receipt: Receipt, now: datetime) -> int | None:
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = (
        dialect_insert(DeliveryReceipt)
        .values(
            provider=receipt.provider,
            provider_message_id=receipt.provider_message_id or f"out:{receipt.notification_id}",
            phone=receipt.phone,
            delivered=receipt.delivered,
            error_code=receipt.error_code,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "provider_message_id", "phone"])
        .returning(DeliveryReceipt.id)
    )
    return await session.scalar(stmt)


async def _notification_for(session: AsyncSession, receipt: Receipt) -> Notification | None:
    """The row the receipt is about: by our correlation id (the row's own id, or the ``batch_id``
    of a batch it went in) or else by the provider's id, which a whole batch shares. Either may
    name several rows: the receipt's phone picks the one (a batch holds each phone once)."""
    if receipt.notification_id is not None:
        named = or_(
            Notification.id == receipt.notification_id, Notification.batch_id == receipt.notification_id
        )
        where = and_(named, Notification.channel == "sms")
    elif receipt.provider_message_id is None:
        return None
    else:
        where = and_(
            Notification.provider == receipt.provider,
            Notification.provider_message_id == receipt.provider_message_id,
        )
    candidates = await session.execute(select(Notification.id, Notification.payload).where(where))
    row_id = next(
        (row_id for row_id, payload in candidates if payload.get("recipient") in (receipt.phone, None)),
        None,
    )
    if row_id is None:
        return None  # an id that is not ours for this phone: keep the receipt, touch nothing
    stmt = select(Notification).where(Notification.id == row_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def apply_receipt(session: AsyncSession, row: Notification, receipt: Receipt, *, now: datetime) -> None:
    if row.status not in RECEIPT_OPEN_STATUSES:
        return  # already final (delivered, failed, or reset by another path)
    row.updated_at, row.lease_until = now, None
    row.provider = row.provider or receipt.provider
    row.provider_message_id = row.provider_message_id or receipt.provider_message_id
    if receipt.delivered:
        row.status, row.delivered_at = NotificationStatus.delivered, now
    else:
        row.status, row.last_error = NotificationStatus.failed, f"receipt: {receipt.error_code or 'FAIL'}"
        await fall_back(session, row, now=now)
    NOTIFICATION_OUTCOMES.labels(row.channel, row.status).inc()


async def apply_waiting_receipts(
    session: AsyncSession, notification_ids: list[int], *, now: datetime
) -> None:
    """Rows just recorded ``sent`` through a channel whose receipt can beat that record
    (``Channel.receipt_before_answer``): now that they know their provider id, apply a receipt
    that arrived without a match."""
    if not notification_ids:
        return
    stmt = (
        select(Notification)
        .where(Notification.id.in_(notification_ids), Notification.status == NotificationStatus.sent)
        .order_by(Notification.id)
    )
    for row in await session.scalars(stmt.with_for_update() if is_postgres(session) else stmt):
        await _apply_waiting_receipt(session, row, now=now)


async def _apply_waiting_receipt(session: AsyncSession, row: Notification, *, now: datetime) -> None:
    if row.provider_message_id is None:
        return
    waiting = await session.scalar(
        select(DeliveryReceipt).where(
            DeliveryReceipt.provider == row.provider,
            DeliveryReceipt.provider_message_id == row.provider_message_id,
            DeliveryReceipt.notification_id.is_(None),
        )
    )
    if waiting is None:
        return
    waiting.notification_id = row.id
    receipt = Receipt(
        provider=waiting.provider,
        provider_message_id=waiting.provider_message_id,
        phone=waiting.phone,
        delivered=waiting.delivered,
        error_code=waiting.error_code,
    )
    await apply_receipt(session, row, receipt, now=now)


def parse_aliyun(items: list[dict[str, object]]) -> list[Receipt]:
    receipts = []
    for item in items:
        out_id = str(item.get("out_id") or "")
        receipts.append(
            Receipt(
                provider=ALIYUN,
                provider_message_id=pushed(str(item["biz_id"]), 100),
                phone=e164(str(item["phone_number"])),
                delivered=item.get("success") in (True, "true", "True"),
                error_code=pushed(str(item.get("err_code") or ""), 100) or None,
                notification_id=int(out_id) if out_id.isdigit() else None,
            )
        )
    return receipts


def parse_tencent(items: list[dict[str, object]]) -> list[Receipt]:
    receipts = []
    for item in items:
        context = str(item.get("ext") or item.get("session_context") or "")
        receipts.append(
            Receipt(
                provider=TENCENT,
                provider_message_id=pushed(str(item["sid"]), 100),
                phone=e164(str(item["mobile"]), str(item.get("nationcode") or "86")),
                delivered=str(item.get("report_status", "")).upper() == "SUCCESS",
                error_code=pushed(str(item.get("errmsg") or ""), 100) or None,
                notification_id=int(context) if context.isdigit() else None,
            )
        )
    return receipts
