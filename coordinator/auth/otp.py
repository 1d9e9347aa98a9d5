"""Volunteer login by a one-time code sent to their phone.

Only an HMAC of a code is stored (keyed with the secret key); a code lives ``otp_ttl_seconds``,
allows ``otp_max_attempts`` guesses, and a new request replaces it. Requests are limited per
phone and per client address, under advisory locks (docs/concurrency.md). The code goes out by
SMS after the request commits (``notify.immediate``); the stored row carries it masked."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.auth.models import OtpCode, Role, User, UserStation
from coordinator.clock import Clock
from coordinator.db import advisory_locks, flush_or_raise, is_postgres
from coordinator.errors import Conflict, CoordinatorError, Forbidden, RateLimited, Unauthorized
from coordinator.notify.channels import Channel, SendResult
from coordinator.notify.immediate import send_now, store_immediate
from coordinator.notify.models import NotificationReason
from coordinator.people.field_rules import normalize_phone
from coordinator.people.models import Person
from coordinator.settings import Settings

CODE_DIGITS = 6
MASKED_CODE = "******"


@dataclass(frozen=True)
class OtpDelivery:
    """What to send once the request has committed (the code exists only here, in memory)."""

    notification_id: int
    phone: str
    code: str
    minutes: int


def code_hash(secret: str, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _rate_limited(zh: str, en: str, retry_after: int) -> RateLimited:
    return RateLimited(zh, en, code="otp_rate_limited", details={"retry_after": retry_after})


async def _count_since(
    session: AsyncSession, column: InstrumentedAttribute[str], value: str, since: datetime
) -> int:
    count = await session.scalar(
        select(func.count()).select_from(OtpCode).where(column == value, OtpCode.created_at > since)
    )
    return int(count or 0)


async def _check_limits(
    session: AsyncSession, settings: Settings, phone: str, ip: str, now: datetime
) -> None:
    if await _count_since(session, OtpCode.phone, phone, now - timedelta(minutes=1)) >= (
        settings.otp_per_phone_per_minute
    ):
        raise _rate_limited("验证码发送太频繁，请1分钟后再试", "Too many codes: wait a minute", 60)
    if await _count_since(session, OtpCode.phone, phone, now - timedelta(hours=1)) >= (
        settings.otp_per_phone_per_hour
    ):
        raise _rate_limited("该手机号本小时获取验证码次数已达上限", "Hourly code limit for this phone", 3600)
    if await _count_since(session, OtpCode.request_ip, ip, now - timedelta(hours=1)) >= (
        settings.otp_per_ip_per_hour
    ):
        raise _rate_limited("请求太频繁，请稍后再试", "Too many code requests from this address", 3600)


async def request_code(
    session: AsyncSession, clock: Clock, settings: Settings, *, phone: str, ip: str
) -> OtpDelivery | None:
    """Store a new code for ``phone``; None when no volunteer has that phone (nothing is sent,
    but the answer and the rate limits are the same, so the API does not reveal who is known)."""
    phone = normalize_phone(phone)
    await advisory_locks(session, f"otp:phone:{phone}", f"otp:ip:{ip}")
    now = clock.now()
    await _check_limits(session, settings, phone, ip, now)
    await session.execute(
        update(OtpCode)
        .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    secret = settings.secret_key.get_secret_value()
    otp = OtpCode(
        phone=phone,
        code_hash=code_hash(secret, phone, code),
        request_ip=ip,
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.otp_ttl_seconds),
    )
    session.add(otp)
    await session.flush()
    person = await _person_for(session, phone, station_id=None)
    if person is None:
        return None
    minutes = max(settings.otp_ttl_seconds // 60, 1)
    notification_id = await store_immediate(
        session,
        clock,
        settings,
        key=f"otp:o{otp.id}",
        reason=NotificationReason.otp,
        channel="sms",
        recipient=phone,
        person_id=person.id,
        station_id=person.station_id,
        deadline=otp.expires_at,
        stored_context=_words(MASKED_CODE, minutes),
    )
    return OtpDelivery(notification_id=notification_id, phone=phone, code=code, minutes=minutes)


async def send_code(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    channels: Mapping[str, Channel],
    delivery: OtpDelivery,
) -> SendResult:
    """Send a committed code; a throttled one is not retried: the volunteer asks again."""
    return await send_now(
        sessionmaker=sessionmaker,
        clock=clock,
        settings=settings,
        channels=channels,
        notification_id=delivery.notification_id,
        reason=NotificationReason.otp,
        channel="sms",
        recipient=delivery.phone,
        context=_words(delivery.code, delivery.minutes),
    )


def _words(code: str, minutes: int) -> dict[str, str]:
    return {"code": code, "minutes": str(minutes)}


async def _person_for(session: AsyncSession, phone: str, *, station_id: int | None) -> Person | None:
    stmt = select(Person).where(Person.phone == phone, Person.is_active.is_(True))
    if station_id is not None:
        stmt = stmt.where(Person.station_id == station_id)
    # A phone on the registers of several stations logs in as its first record unless told which.
    return await session.scalar(stmt.order_by(Person.id).limit(1))


def _wrong_code() -> Unauthorized:
    return Unauthorized("验证码错误或已过期", "Wrong or expired code", code="otp_invalid", field="code")


async def verify_code(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    phone: str,
    code: str,
    station_id: int | None = None,
) -> User | CoordinatorError:
    """The volunteer's user (created on first login), or the error to answer.

    The error is returned, not raised, so the caller commits the counted attempt."""
    phone = normalize_phone(phone)
    now = clock.now()
    stmt = (
        select(OtpCode)
        .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None), OtpCode.expires_at > now)
        .order_by(OtpCode.id.desc())
        .limit(1)
    )
    otp = await session.scalar(stmt.with_for_update() if is_postgres(session) else stmt)
    if otp is None:
        return _wrong_code()
    otp.attempts += 1
    expected = code_hash(settings.secret_key.get_secret_value(), phone, code.strip())
    if not hmac.compare_digest(expected, otp.code_hash):
        if otp.attempts >= settings.otp_max_attempts:
            otp.consumed_at = now  # burnt: ask for a new code
            await session.flush()
            return RateLimited(
                "验证码错误次数过多，请重新获取",
                "Too many wrong codes: request a new one",
                code="otp_attempts",
            )
        await session.flush()
        return _wrong_code()
    otp.consumed_at = now
    await session.flush()
    person = await _person_for(session, phone, station_id=station_id)
    if person is None:
        return _wrong_code()
    return await volunteer_user(session, clock, person)


async def volunteer_user(session: AsyncSession, clock: Clock, person: Person) -> User | CoordinatorError:
    """The volunteer account of ``person`` (made on their first login), or why they cannot log in."""
    user = await session.scalar(select(User).where(User.person_id == person.id))
    if user is not None:
        if not user.is_active:
            return Unauthorized("账号已停用", "Account disabled", code="account_disabled")
        if user.role != Role.volunteer:
            # A staff account linked to this person signs in with its password, never by SMS.
            return Forbidden(
                "请使用账号密码登录", "Staff accounts sign in with a password", code="use_password"
            )
        return user
    user = User(role=Role.volunteer, person_id=person.id, is_active=True, created_at=clock.now())
    session.add(user)
    await flush_or_raise(session, Conflict("请重试", "Please retry", code="login_conflict"))
    session.add(UserStation(user_id=user.id, station_id=person.station_id))
    await session.flush()
    return user
