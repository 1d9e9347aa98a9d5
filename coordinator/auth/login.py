"""Staff login by username and password, limited per username and per client address.

Each attempt is stored as a failure before the password is checked and deleted when it
succeeds, so attempts still being checked count too: a burst of guesses sent at once meets the
limit as surely as one sent in turn. Counting and storing run under advisory locks on the
username and the address (docs/concurrency.md); the Argon2 check runs in a worker thread with no
transaction open."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.auth.models import LoginAttempt, User
from coordinator.clock import Clock
from coordinator.db import advisory_locks, transaction
from coordinator.errors import RateLimited, Unauthorized
from coordinator.security import hash_password, verify_password_off_loop
from coordinator.settings import Settings

# Checked when the username is unknown, so the answer takes as long as for a known one.
_DUMMY_HASH = hash_password("timing-equalizer")


def username_key(username: str) -> str:
    return hashlib.sha256(username.encode()).hexdigest()


def bad_credentials() -> Unauthorized:
    return Unauthorized("用户名或密码错误", "Wrong username or password", code="bad_credentials")


async def log_in(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    username: str,
    password: str,
    address: str,
) -> User:
    """The active staff account with this username and password; 401 otherwise, 429 (with
    ``retry_after``) once the username or the address has too many recent failures."""
    key, address = username_key(username), address[:64]
    async with transaction(sessionmaker) as session:
        await advisory_locks(session, f"login:user:{key}", f"login:address:{address}")
        now = clock.now()
        await _check_limits(session, settings, key, address, now)
        session.add(LoginAttempt(username_key=key, client_address=address, attempted_at=now))
        user = await session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    if not await verify_password_off_loop(password, stored) or user is None or not user.is_active:
        raise bad_credentials()
    async with transaction(sessionmaker) as session:
        await session.execute(delete(LoginAttempt).where(LoginAttempt.username_key == key))
    return user


async def _check_limits(
    session: AsyncSession, settings: Settings, key: str, address: str, now: datetime
) -> None:
    since = now - timedelta(seconds=settings.login_failure_window_seconds)
    for column, value, limit in (
        (LoginAttempt.username_key, key, settings.login_max_failures_per_username),
        (LoginAttempt.client_address, address, settings.login_max_failures_per_address),
    ):
        count, oldest = await _failures_since(session, column, value, since)
        if count >= limit and oldest is not None:
            wait = oldest - since  # until the oldest failure leaves the window
            raise _too_many(max(math.ceil(wait.total_seconds()), 1))


async def _failures_since(
    session: AsyncSession, column: InstrumentedAttribute[str], value: str, since: datetime
) -> tuple[int, datetime | None]:
    row = (
        await session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(
                column == value, LoginAttempt.attempted_at > since
            )
        )
    ).one()
    return int(row[0]), row[1]


def _too_many(retry_after: int) -> RateLimited:
    minutes = max(math.ceil(retry_after / 60), 1)
    return RateLimited(
        f"登录失败次数过多，请{minutes}分钟后再试",
        f"Too many failed logins: try again in {minutes} min",
        code="login_rate_limited",
        details={"retry_after": retry_after},
    )
