"""Invitations: staff offer a person a place; the person answers through a signed link.

An invitation is an ``invited`` sign-up that holds a place in its role until it is accepted
(confirmed), declined, withdrawn or expires; the last three free the place for the waiting
people. Its link's token names the sign-up and expires with it: ``invitation_valid_hours`` after
sending, never later than the event's start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.domain_events import DomainEventType
from coordinator.errors import Conflict, CoordinatorError, Invalid, Unauthorized
from coordinator.events.models import Event, EventRole, Signup, SignupSource, SignupStatus
from coordinator.events.service import load_event
from coordinator.events.signups.commitments import load_commitments
from coordinator.events.signups.places import (
    emit_signup,
    lock_people,
    lock_role,
    refresh_event,
    set_status,
)
from coordinator.events.signups.rules import check_event_open, commitment_problem, free_places
from coordinator.events.signups.service import add_signup, admit
from coordinator.events.signups.waitlist import fill_free_places
from coordinator.security import sign, verify
from coordinator.settings import Settings

PURPOSE = "invitation"
EXPIRY_BATCH = 200


class Gone(CoordinatorError):
    status_code: ClassVar[int] = 410
    default_code: ClassVar[str] = "gone"


def invitation_token(settings: Settings, signup: Signup, *, now: datetime) -> str:
    """The answer link's token; can be issued again (e.g. by a reminder) until the invitation expires."""
    assert signup.invitation_expires_at is not None
    return sign(
        settings.secret_key.get_secret_value(),
        PURPOSE,
        {"sid": signup.id},
        now=now,
        expires_in=max(signup.invitation_expires_at - now, timedelta(0)),
    )


def invitation_url(settings: Settings, token: str) -> str:
    # The phone page (no login): what a volunteer opens from an SMS or WeChat message. The same token
    # also works with the JSON routes under /api/v1/invitations/{token}.
    return f"{settings.public_base_url.rstrip('/')}/web/invitation?token={token}"


async def invite(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    event_id: int,
    person_id: int,
    role_id: int | None,
    source: SignupSource,
) -> tuple[Signup, str]:
    """Hold a free place of the role for the person, answerable through the returned token."""
    event, zone = await load_event(session, event_id)
    role = (await admit(session, clock, event, zone, person_id=person_id, role_id=role_id)).role
    if free_places(role) <= 0:
        raise Conflict(
            f"岗位「{role.name}」已满，不能再邀请",
            f"Role {role.name!r} has no free place to invite into",
            code="role_full",
            field="role",
        )
    now = clock.now()
    signup = Signup(
        event_id=event_id,
        role_id=role.id,
        person_id=person_id,
        source=source,
        invitation_expires_at=min(now + timedelta(hours=settings.invitation_valid_hours), event.starts_at),
        created_at=now,
    )
    set_status(signup, role, SignupStatus.invited, now)
    await add_signup(session, signup)
    assert signup.invitation_expires_at is not None
    await emit_signup(
        session,
        clock,
        DomainEventType.invitation_sent,
        signup,
        event.station_id,
        source=source,
        expires_at=signup.invitation_expires_at.isoformat(),
    )
    return signup, invitation_token(settings, signup, now=now)


async def read_invitation(session: AsyncSession, clock: Clock, settings: Settings, token: str) -> Signup:
    """The sign-up a token names; refuses forged and expired tokens."""
    try:
        claims = verify(settings.secret_key.get_secret_value(), PURPOSE, token, now=clock.now())
    except Unauthorized as exc:
        if exc.code == "token_expired":
            raise invitation_expired() from exc
        raise Invalid("邀请链接无效", "The invitation link is invalid", code="invalid_invitation") from exc
    signup_id = claims.get("sid")
    signup = await session.get(Signup, signup_id) if isinstance(signup_id, int) else None
    if signup is None:
        raise Invalid("邀请链接无效", "The invitation link is invalid", code="invalid_invitation")
    return signup


def invitation_expired() -> Gone:
    return Gone("邀请已过期", "The invitation has expired", code="invitation_expired")


def _check_still_open(signup: Signup, now: datetime) -> None:
    if signup.status == SignupStatus.invited:
        if signup.invitation_expires_at is not None and signup.invitation_expires_at <= now:
            raise invitation_expired()
        return
    if signup.status == SignupStatus.cancelled and _expired(signup):
        raise invitation_expired()
    raise Conflict(
        f"该邀请已处理（{signup.status}）",
        f"The invitation was already answered or withdrawn ({signup.status})",
        code="invitation_answered",
        details={"status": signup.status},
    )


def _expired(signup: Signup) -> bool:
    """An invitation ended by the expiry tick (not by an answer or a withdrawal)."""
    return (
        signup.invitation_expires_at is not None
        and signup.cancelled_at is not None
        and signup.cancelled_at >= signup.invitation_expires_at
    )


async def _lock_invitation(session: AsyncSession, signup: Signup, event: Event) -> tuple[EventRole, Signup]:
    """Lock the role, then read the sign-up and the event again: their status changes only under
    the role's lock."""
    role = await lock_role(session, signup.role_id)
    await refresh_event(session, event)
    fresh = await session.scalar(
        select(Signup).where(Signup.id == signup.id).execution_options(populate_existing=True)
    )
    assert fresh is not None
    return role, fresh


async def accept(session: AsyncSession, clock: Clock, settings: Settings, token: str) -> Signup:
    """Confirm the invited person (waitlisted instead if the role somehow has no place left,
    e.g. its count was changed past the invitation by other means)."""
    signup = await read_invitation(session, clock, settings, token)
    event, zone = await load_event(session, signup.event_id)
    now = clock.now()
    role, signup = await _lock_invitation(session, signup, event)
    _check_still_open(signup, now)
    check_event_open(event, now)
    limits = await lock_people(session, [signup.person_id])
    commitments = (await load_commitments(session, [signup.person_id], event, zone)).get(signup.person_id, [])
    if problem := commitment_problem(event, zone, commitments, limits[signup.person_id]):
        raise problem
    # The invitation holds one of the places counted: confirming moves that hold, so it fits
    # unless the count was lowered past the places held.
    has_place = free_places(role) >= 0
    set_status(signup, role, SignupStatus.confirmed if has_place else SignupStatus.waitlisted, now)
    await session.flush()
    await _emit_answer(session, clock, signup, event.station_id, "accepted")
    kind = DomainEventType.signup_confirmed if has_place else DomainEventType.signup_waitlisted
    await emit_signup(session, clock, kind, signup, event.station_id, source=signup.source)
    return signup


async def decline(session: AsyncSession, clock: Clock, settings: Settings, token: str) -> Signup:
    """Free the invitation's place and promote the first eligible waiting people."""
    signup = await read_invitation(session, clock, settings, token)
    event, zone = await load_event(session, signup.event_id)
    role, signup = await _lock_invitation(session, signup, event)
    _check_still_open(signup, clock.now())
    set_status(signup, role, SignupStatus.declined, clock.now())
    await session.flush()
    await _emit_answer(session, clock, signup, event.station_id, "declined")
    await fill_free_places(session, clock, event=event, role=role, zone=zone)
    return signup


async def _emit_answer(
    session: AsyncSession, clock: Clock, signup: Signup, station_id: int, answer: str
) -> None:
    await emit_signup(session, clock, DomainEventType.invitation_answered, signup, station_id, answer=answer)


async def expire_invitations(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings, **_: Any
) -> int:
    """Tick: end invitations past their expiry, each in its own transaction (one role lock at a
    time, so the tick never holds two roles), freeing the place for the waiting people."""
    now = clock.now()
    async with sessionmaker() as session:
        due = list(
            (
                await session.scalars(
                    select(Signup.id)
                    .where(Signup.status == SignupStatus.invited, Signup.invitation_expires_at <= now)
                    .order_by(Signup.invitation_expires_at, Signup.id)
                    .limit(EXPIRY_BATCH)
                )
            ).all()
        )
    expired = 0
    for signup_id in due:
        async with transaction(sessionmaker) as session:
            expired += await _expire_one(session, clock, signup_id)
    return expired


async def _expire_one(session: AsyncSession, clock: Clock, signup_id: int) -> int:
    signup = await session.get(Signup, signup_id)
    if signup is None:
        return 0
    event, zone = await load_event(session, signup.event_id)
    role, signup = await _lock_invitation(session, signup, event)
    now = clock.now()
    if signup.status != SignupStatus.invited or signup.invitation_expires_at is None:
        return 0  # answered meanwhile
    if signup.invitation_expires_at > now:
        return 0
    set_status(signup, role, SignupStatus.cancelled, now)
    await session.flush()
    await _emit_answer(session, clock, signup, event.station_id, "expired")
    await fill_free_places(session, clock, event=event, role=role, zone=zone)
    return 1
