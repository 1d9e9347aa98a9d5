from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User, UserStation
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict, Forbidden, Invalid, Unauthorized, not_found
from coordinator.regions.models import Region
from coordinator.regions.service import stations_below
from coordinator.security import hash_password_off_loop, sign, verify, verify_password_off_loop
from coordinator.settings import Settings
from coordinator.stations.models import Station

ACCESS_PURPOSE = "access"


def issue_access_token(*, settings: Settings, clock: Clock, user: User) -> str:
    return sign(
        settings.secret_key.get_secret_value(),
        ACCESS_PURPOSE,
        account_claims(user),
        now=clock.now(),
        expires_in=timedelta(minutes=settings.access_token_minutes),
    )


def account_claims(user: User) -> dict[str, object]:
    """What a bearer token or a session cookie says about its account: who, and at which
    session version (``User.session_version``)."""
    return {"sub": str(user.id), "ver": user.session_version}


@dataclass(frozen=True)
class TokenAccount:
    user_id: int
    session_version: int


def account_of_claims(claims: dict[str, Any]) -> TokenAccount:
    """The account verified claims name; tokens from before session versions count as version 0."""
    subject, version = claims.get("sub"), claims.get("ver", 0)
    if (
        not isinstance(subject, str)
        or not subject.isdecimal()
        or not isinstance(version, int)
        or isinstance(version, bool)
    ):
        raise Unauthorized("凭证无效", "Invalid token", code="invalid_token")
    return TokenAccount(int(subject), version)


def account_disabled() -> Unauthorized:
    return Unauthorized("账号不存在或已停用", "Account missing or disabled", code="account_disabled")


def session_ended() -> Unauthorized:
    return Unauthorized(
        "登录已失效（已退出或已修改密码），请重新登录",
        "This login has ended (logged out or password changed): log in again",
        code="session_ended",
    )


async def end_sessions(session: AsyncSession, user_id: int) -> int:
    """Every session cookie and bearer token issued to the user so far stops working; answers the
    new version, for the session that replaces them (after a password change)."""
    version = await session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1)
        .returning(User.session_version)
    )
    return int(version or 0)


# The caller's account with its stations, one row per station (none when there is no such user):
# one round trip on every authenticated request, built once.
_ACCOUNT = (
    select(
        User.role,
        User.person_id,
        User.is_active,
        User.session_version,
        User.region_id,
        UserStation.station_id,
    )
    .select_from(User)
    .outerjoin(UserStation, UserStation.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


async def _principal_of(
    session: AsyncSession,
    account: TokenAccount,
    rows: Sequence[Row[Role, int | None, bool, int, int | None, int]],
) -> Principal:
    """The caller, from the rows of ``_ACCOUNT``; refuses a missing or disabled account and a
    token of an ended session."""
    if not rows or not rows[0].is_active:
        raise account_disabled()
    if rows[0].session_version != account.session_version:
        raise session_ended()
    return await with_stations(
        session,
        role=Role(rows[0].role),
        user_id=account.user_id,
        station_ids={row.station_id for row in rows if row.station_id is not None},
        person_id=rows[0].person_id,
        region_id=rows[0].region_id,
    )


async def with_stations(
    session: AsyncSession,
    *,
    role: Role,
    user_id: int,
    station_ids: set[int],
    person_id: int | None,
    region_id: int | None,
) -> Principal:
    """The principal, with the stations below its region added to its own: every station check
    (``Principal.can_access``, ``station_filter``) then covers region staff too."""
    if region_id is not None:
        station_ids |= await stations_below(session, region_id)
    return Principal(
        user_id=user_id,
        role=role,
        station_ids=frozenset(station_ids),
        person_id=person_id,
        region_id=region_id,
    )


async def principal_from_token(
    *, session: AsyncSession, settings: Settings, clock: Clock, token: str
) -> Principal:
    claims = verify(settings.secret_key.get_secret_value(), ACCESS_PURPOSE, token, now=clock.now())
    account = account_of_claims(claims)
    rows = (await session.execute(_ACCOUNT, {"user_id": account.user_id})).all()
    return await _principal_of(session, account, rows)


async def change_password(
    *, session: AsyncSession, user_id: int, current_password: str, new_password: str
) -> User:
    """Set a new password for a staff account that knows its current one; ends its sessions."""
    user = await session.get(User, user_id)
    if user is None or user.role == Role.volunteer or user.password_hash is None:
        raise Forbidden(
            "此账号使用短信验证码登录，没有密码",
            "This account logs in by SMS code, not a password",
            code="no_password",
        )
    if not await verify_password_off_loop(current_password, user.password_hash):
        raise Invalid(
            "当前密码错误", "The current password is wrong", code="wrong_password", field="current_password"
        )
    await _set_password(session, user, new_password)
    return user


async def reset_account(
    *, session: AsyncSession, username: str, password: str | None = None, disable: bool = False
) -> User:
    """The CLI's ``admin password`` / ``admin disable``: either ends the account's sessions."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise not_found("账号", "user", username)
    if password is not None:
        await _set_password(session, user, password)
    if disable:
        user.is_active = False
        user.session_version = await end_sessions(session, user.id)
    return user


async def _set_password(session: AsyncSession, user: User, password: str) -> None:
    user.password_hash = await hash_password_off_loop(password)
    user.session_version = await end_sessions(session, user.id)


async def load_principal(*, session: AsyncSession, user: User) -> Principal:
    station_ids = await session.scalars(select(UserStation.station_id).where(UserStation.user_id == user.id))
    return await with_stations(
        session, role=Role(user.role), user_id=user.id, station_ids=set(station_ids),
        person_id=user.person_id, region_id=user.region_id,
    )  # fmt: skip


async def create_user(
    *,
    session: AsyncSession,
    clock: Clock,
    actor: Principal | None,
    username: str,
    password: str,
    role: Role,
    station_ids: Sequence[int],
    region_id: int | None = None,
) -> User:
    """Create a staff user. ``actor`` is None only for the CLI's ``admin create``."""
    if actor is not None:
        _check_may_create(actor, role, station_ids, region_id)
    if role is not Role.admin and not station_ids and region_id is None:
        raise Invalid(
            "请至少指定一个服务站或一个行政区域",
            "At least one station or a region is required",
            field="station_ids",
        )
    if region_id is not None and await session.get(Region, region_id) is None:
        raise Invalid(f"行政区域不存在：{region_id}", f"Unknown region: {region_id}", field="region_id")
    known = set(await session.scalars(select(Station.id).where(Station.id.in_(station_ids))))
    if missing := sorted(set(station_ids) - known):
        raise Invalid(f"服务站不存在：{missing}", f"Unknown stations: {missing}", field="station_ids")
    user = User(
        username=username,
        password_hash=await hash_password_off_loop(password),
        role=role,
        region_id=region_id,
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


def _check_may_create(
    actor: Principal, role: Role, station_ids: Sequence[int], region_id: int | None
) -> None:
    if actor.is_admin:
        return
    if (
        region_id is None
        and actor.role is Role.station_head
        and role is Role.organizer
        and all(actor.can_access(sid) for sid in station_ids)
    ):
        return
    raise Forbidden("只能为本站创建社工账号", "Station heads may only create organizers of their stations")
