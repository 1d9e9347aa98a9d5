"""Routes: the staff's view of notifications, and the providers' delivery receipts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.deps import ClockDep, PrincipalDep, SessionDep
from coordinator.errors import ERROR_RESPONSES, Invalid, not_found
from coordinator.events.models import Event
from coordinator.fields import Id
from coordinator.masking import mask_phone
from coordinator.notify.callbacks import CALLBACK_TOKEN_CHECK, MAX_PUSHED_ITEMS
from coordinator.notify.channels.console import masked_recipient
from coordinator.notify.models import Notification, NotificationStatus
from coordinator.notify.receipts import parse_aliyun, parse_tencent, record_receipts
from coordinator.notify.schemas import (
    ALIYUN_RECEIPT_EXAMPLE,
    TENCENT_RECEIPT_EXAMPLE,
    AliyunReceiptAnswer,
    NotificationOut,
    TencentReceiptAnswer,
)
from coordinator.pagination import CursorQuery, LimitQuery, Page, paginate
from coordinator.people.models import Person

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)

ReceiptBody = list[dict[str, Any]]


@router.get(
    "/notifications",
    response_model=Page[NotificationOut],
    summary="Notifications planned and sent, with filters",
)
async def list_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    event: Annotated[Id | None, Query(description="Only this event's")] = None,
    person: Annotated[Id | None, Query(description="Only this person's")] = None,
    status: Annotated[NotificationStatus | None, Query(description="Only in this status")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[NotificationOut]:
    """What was sent (or failed, or waits) to whom, for the stations the caller sees."""
    principal.require_staff()
    await _check_visible(session, principal, event=event, person=person)
    stmt = select(Notification).where(principal.station_filter(Notification.station_id))
    if event is not None:
        stmt = stmt.where(Notification.event_id == event)
    if person is not None:
        stmt = stmt.where(Notification.person_id == person)
    if status is not None:
        stmt = stmt.where(Notification.status == status)
    rows, next_cursor = await paginate(session, stmt, keys=[Notification.id], limit=limit, cursor=cursor)
    return Page(items=[_out(row) for row in rows], next_cursor=next_cursor)


async def _check_visible(
    session: AsyncSession, principal: Principal, *, event: int | None, person: int | None
) -> None:
    if event is not None:
        found = await session.get(Event, event)
        if found is None or not principal.can_access(found.station_id):
            raise not_found("活动", "event", event)
    if person is not None:
        someone = await session.get(Person, person)
        if someone is None or not principal.can_access(someone.station_id):
            raise not_found("志愿者", "person", person)


def _out(row: Notification) -> NotificationOut:
    recipient = str(row.payload.get("recipient") or "")
    shown = (mask_phone(recipient) or "") if row.channel == "sms" else masked_recipient(recipient)
    return NotificationOut(
        id=row.id,
        station_id=row.station_id,
        person_id=row.person_id,
        event_id=row.event_id,
        reason=row.reason,
        offset=row.offset,
        channel=row.channel,
        status=row.status,
        recipient=shown if recipient else "",
        due_at=row.due_at,
        deadline=row.deadline,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        provider=row.provider,
        provider_message_id=row.provider_message_id,
        last_error=row.last_error,
    )


def _bad_receipt(exc: Exception) -> Invalid:
    return Invalid("回执格式有误", f"Malformed receipt: {exc}", code="invalid_receipt")


@router.post(
    "/notify/receipts/aliyun",
    response_model=AliyunReceiptAnswer,
    dependencies=CALLBACK_TOKEN_CHECK,
    summary="Aliyun SMS delivery receipts",
)
async def aliyun_receipts(
    session: SessionDep,
    clock: ClockDep,
    items: Annotated[ReceiptBody, Body(examples=[ALIYUN_RECEIPT_EXAMPLE], max_length=MAX_PUSHED_ITEMS)],
) -> AliyunReceiptAnswer:
    """Aliyun pushes a JSON array of reports and retries until it gets ``{"code": 0}``."""
    try:
        receipts = parse_aliyun(items)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_receipt(exc) from exc
    await record_receipts(session, clock, receipts)
    return AliyunReceiptAnswer()


@router.post(
    "/notify/receipts/tencent",
    response_model=TencentReceiptAnswer,
    dependencies=CALLBACK_TOKEN_CHECK,
    summary="Tencent SMS status callback",
)
async def tencent_receipts(
    session: SessionDep,
    clock: ClockDep,
    items: Annotated[ReceiptBody, Body(examples=[TENCENT_RECEIPT_EXAMPLE], max_length=MAX_PUSHED_ITEMS)],
) -> TencentReceiptAnswer:
    """Tencent pushes up to 100 reports at a time and expects ``{"result": 0}``."""
    try:
        receipts = parse_tencent(items)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_receipt(exc) from exc
    await record_receipts(session, clock, receipts)
    return TencentReceiptAnswer()
