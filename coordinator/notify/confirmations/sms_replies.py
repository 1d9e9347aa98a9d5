"""Reply keywords to the day-before SMS: "1" confirms, "0" releases the place.

A reply names no event, only the phone it came from, so it answers the latest confirmation
request sent by SMS to that phone that is still unanswered, for a place still held in an event
that has not started. Providers push a reply again until we answer it (Aliyun after 1, 5 and
10 minutes), so each reply is stored once under its key before it acts: a repeated "0" finds its
row and does nothing, instead of releasing the next event's place.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import structlog
from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.clock import Clock
from coordinator.db import is_postgres
from coordinator.errors import CoordinatorError
from coordinator.events.models import Signup, SignupStatus
from coordinator.masking import mask_phone
from coordinator.notify.confirmations import service
from coordinator.notify.confirmations.links import CONFIRM_TEMPLATE
from coordinator.notify.confirmations.models import (
    AnswerVia,
    PlaceConfirmation,
    ReplyOutcome,
    SmsReply,
)
from coordinator.notify.models import Notification, NotificationReason, NotificationStatus
from coordinator.notify.receipts import ALIYUN, TENCENT, e164, pushed
from coordinator.people.models import Person
from coordinator.settings import Settings

log = structlog.get_logger(__name__)

CONFIRM_WORDS = frozenset({"1", "确认", "参加", "是", "y", "yes"})
RELEASE_WORDS = frozenset({"0", "释放", "取消", "不参加", "否", "n", "no"})
# Requests the provider accepted (a receipt may not have come yet).
_SENT = (NotificationStatus.sent, NotificationStatus.delivered, NotificationStatus.unknown)
_CANDIDATES = 20


@dataclass(frozen=True)
class Reply:
    provider: str
    reply_key: str
    phone: str  # E.164
    text: str


def keyword(text: str) -> ReplyOutcome | None:
    """Full-width digits and stray punctuation are normal in replies from older phones."""
    word = unicodedata.normalize("NFKC", text).strip().strip("。.!！ ").lower()
    if word in CONFIRM_WORDS:
        return ReplyOutcome.confirmed
    if word in RELEASE_WORDS:
        return ReplyOutcome.released
    return None


def parse_aliyun(items: list[dict[str, object]]) -> list[Reply]:
    return [
        Reply(
            provider=ALIYUN,
            reply_key=pushed(str(item["sequence_id"]), 120),
            phone=e164(str(item["phone_number"])),
            text=str(item.get("content") or "")[:200],
        )
        for item in items
    ]


def parse_tencent(item: dict[str, object]) -> Reply:
    phone = e164(str(item["mobile"]), str(item.get("nationcode") or "86"))
    text = str(item.get("text") or "")[:200]
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    # Tencent sends no id for a reply: the same phone, second and text is the same reply.
    key = pushed(f"{phone}:{int(str(item['time']))}:{digest}", 120)
    return Reply(provider=TENCENT, reply_key=key, phone=phone, text=text)


async def handle_replies(
    session: AsyncSession, clock: Clock, settings: Settings, replies: list[Reply]
) -> list[ReplyOutcome]:
    """Store and act on each new reply; a repeat answers the outcome it had the first time."""
    return [await _handle(session, clock, settings, reply) for reply in replies]


async def _handle(session: AsyncSession, clock: Clock, settings: Settings, reply: Reply) -> ReplyOutcome:
    now = clock.now()
    wanted = keyword(reply.text)
    reply_id = await _insert_once(session, reply, now, ReplyOutcome.not_understood)
    if reply_id is None:
        stored = await session.scalar(
            select(SmsReply.outcome).where(
                SmsReply.provider == reply.provider, SmsReply.reply_key == reply.reply_key
            )
        )
        return ReplyOutcome(stored) if stored else ReplyOutcome.not_understood
    if wanted is None:
        return ReplyOutcome.not_understood
    signup_id = await latest_pending(session, reply.phone, now=now)
    outcome, answered = ReplyOutcome.no_pending, None
    if signup_id is not None:
        outcome, answered = await _answer(session, clock, settings, signup_id, wanted)
    row = await session.get(SmsReply, reply_id)
    assert row is not None
    row.outcome, row.signup_id = outcome, answered
    log.info("sms_reply", provider=reply.provider, phone=mask_phone(reply.phone), outcome=outcome)
    return outcome


async def _answer(
    session: AsyncSession, clock: Clock, settings: Settings, signup_id: int, wanted: ReplyOutcome
) -> tuple[ReplyOutcome, int]:
    try:
        # A savepoint: a refused answer leaves the stored reply (and the rest) in place.
        async with session.begin_nested():
            if wanted == ReplyOutcome.confirmed:
                await service.confirm_place(session, clock, signup_id=signup_id, via=AnswerVia.sms_reply)
            else:
                await service.release_place(
                    session, clock, settings, signup_id=signup_id, via=AnswerVia.sms_reply
                )
    except CoordinatorError:
        return ReplyOutcome.refused, signup_id
    return wanted, signup_id


async def latest_pending(session: AsyncSession, phone: str, *, now: datetime) -> int | None:
    """The sign-up of the latest unanswered confirmation request sent by SMS to ``phone``."""
    people = select(Person.id).where(Person.phone == phone).scalar_subquery()
    answered = select(PlaceConfirmation.signup_id).where(
        PlaceConfirmation.signup_id == Notification.signup_id
    )
    rows = await session.scalars(
        select(Notification)
        .join(Signup, Signup.id == Notification.signup_id)
        .where(
            Notification.person_id.in_(people),
            Notification.reason == NotificationReason.reminder,
            Notification.channel == "sms",
            Notification.status.in_(_SENT),
            Notification.deadline > now,
            Signup.status == SignupStatus.confirmed,
            ~answered.exists(),
        )
        .order_by(Notification.sent_at.desc(), Notification.id.desc())
        .limit(_CANDIDATES)
    )
    for row in rows:
        # Only the reminders that asked a question (their template names the keywords).
        if row.payload.get("template_key") == CONFIRM_TEMPLATE and row.signup_id is not None:
            return row.signup_id
    return None


async def _insert_once(
    session: AsyncSession, reply: Reply, now: datetime, outcome: ReplyOutcome
) -> int | None:
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = (
        dialect_insert(cast(Table, SmsReply.__table__))
        .values(
            provider=reply.provider,
            reply_key=reply.reply_key,
            phone=reply.phone,
            text=reply.text,
            outcome=outcome.value,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "reply_key"])
        .returning(SmsReply.__table__.c.id)
    )
    value = await session.scalar(stmt)
    return int(value) if value is not None else None
