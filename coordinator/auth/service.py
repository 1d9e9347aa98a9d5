from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User, UserStation
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict, Forbidden, Invalid, Unauthorized
from coordinator.security import hash_password, sign, verify, verify_password
from coordinator.settings import Settings
from coordinator.stations.models import Station

ACCESS_PURPOSE = "access"


async def authenticate(*, session: AsyncSession, username: str, password: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    # Verify against a dummy hash when the user is unknown so timing does not reveal usernames.
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    if not verify_password(password, stored) or user is None or not user.is_active:
        raise Unauthorized("用户名或密码错误", "Wrong username or password", code="bad_credentials")
    return user


def issue_access_token(*, settings: Settings, clock: Clock, user: User) -> str:
    return sign(
        settings.secret_key.get_secret_value(),
        ACCESS_PURPOSE,
        {"sub": str(user.id)},
        now=clock.now(),
        expires_in=timedelta(minutes=settings.access_token_minutes),
    )


def user_id_from_token(*, settings: Settings, clock: Clock, token: str) -> int:
    """The user a bearer token was issued to: signature, purpose and expiry checked, no database.
    Whoever uses this alone must still check the account exists and is active."""
    claims = verify(settings.secret_key.get_secret_value(), ACCESS_PURPOSE, token, now=clock.now())
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdecimal():
        raise Unauthorized("凭证无效", "Invalid token", code="invalid_token")
    return int(subject)


def account_disabled() -> Unauthorized:
    return Unauthorized("账号不存在或已停用", "Account missing or disabled", code="account_disabled")


# The caller's account with its stations, one row per station (none when there is no such user):
# one round trip on every authenticated request, built once.
_ACCOUNT = (
    select(User.role, User.person_id, User.is_active, UserStation.station_id)
    .select_from(User)
    .outerjoin(UserStation, UserStation.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


def _principal_of(user_id: int, rows: Sequence[Row[Role, int | None, bool, int]]) -> Principal:
    """The caller, from the rows of ``_ACCOUNT``; refuses a missing or disabled account."""
    if not rows or not rows[0].is_active:
        raise account_disabled()
    return Principal(
        user_id=user_id,
        role=Role(rows[0].role),
        station_ids=frozenset(row.station_id for row in rows if row.station_id is not None),
        person_id=rows[0].person_id,
    )


async def principal_from_token(
    *, session: AsyncSession, settings: Settings, clock: Clock, token: str
) -> Principal:
    user_id = user_id_from_token(settings=settings, clock=clock, token=token)
    return _principal_of(user_id, (await session.execute(_ACCOUNT, {"user_id": user_id})).all())


async def load_principal(*, session: AsyncSession, user: User) -> Principal:
    station_ids = await session.scalars(select(UserStation.station_id).where(UserStation.user_id == user.id))
    return Principal(
        user_id=user.id, role=Role(user.role), station_ids=frozenset(station_ids), person_id=user.person_id
    )


async def create_user(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Principal | None,
    username: str,
    password: str,
    role: Role,
    station_ids: Sequence[int],
) -> User:
    """Create a staff user. ``actor`` is None only for the CLI's ``admin create``."""
    if actor is not None:
        _check_may_create(actor, role, station_ids)
    if role is not Role.admin and not station_ids:
        raise Invalid("请至少指定一个服务站", "At least one station is required", field="station_ids")
    known = set(await session.scalars(select(Station.id).where(Station.id.in_(station_ids))))
    if missing := sorted(set(station_ids) - known):
        raise Invalid(f"服务站不存在：{missing}", f"Unknown stations: {missing}", field="station_ids")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        is_active=True,
        created_at=clock.now(),
    )
    session.add(user)
    await flush_or_raise(
        session,
        Conflict(
            "用户名已被使用", f"Username {username!r} is taken", code="username_taken", field="username"
        ),
    )
    session.add_all(UserStation(user_id=user.id, station_id=sid) for sid in sorted(set(station_ids)))
    await session.flush()
    return user


def _check_may_create(actor: Principal, role: Role, station_ids: Sequence[int]) -> None:
    if actor.is_admin:
        return
    if (
        actor.role is Role.station_head
        and role is Role.organizer
        and all(actor.can_access(sid) for sid in station_ids)
    ):
        return
    raise Forbidden("只能为本站创建社工账号", "Station heads may only create organizers of their stations")


_DUMMY_HASH = hash_password("timing-equalizer")
