"""A role's waitlist: the queue in arrival order, positions, promotion into free places and
demotion to the head of the queue. Callers hold the role's lock (``places.lock_role``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.events.models import Event, EventRole, Signup, SignupStatus
from coordinator.events.signups.commitments import load_commitments
from coordinator.events.signups.places import emit_signup, lock_people, set_status
from coordinator.events.signups.rules import commitment_problem, free_places, is_open


async def waiting(session: AsyncSession, role_id: int, *, limit: int | None = None) -> list[Signup]:
    """The role's waiting sign-ups in arrival order."""
    stmt = (
        select(Signup)
        .where(Signup.role_id == role_id, Signup.status == SignupStatus.waitlisted)
        .order_by(Signup.waitlist_seq)
        .execution_options(populate_existing=True)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def waitlist_position(session: AsyncSession, signup: Signup) -> int | None:
    """1 for the first waiting person of the role; None unless the sign-up is waiting."""
    if signup.status != SignupStatus.waitlisted or signup.waitlist_seq is None:
        return None
    ahead = await session.scalar(
        select(func.count()).where(
            Signup.role_id == signup.role_id,
            Signup.status == SignupStatus.waitlisted,
            Signup.waitlist_seq < signup.waitlist_seq,
        )
    )
    return int(ahead or 0) + 1


async def waitlist_positions(session: AsyncSession, role_ids: Sequence[int]) -> dict[int, int]:
    """Signup id → position, for every waiting sign-up of these roles."""
    if not role_ids:
        return {}
    rows = await session.execute(
        select(Signup.id, Signup.role_id)
        .where(Signup.role_id.in_(sorted(set(role_ids))), Signup.status == SignupStatus.waitlisted)
        .order_by(Signup.role_id, Signup.waitlist_seq)
    )
    positions: dict[int, int] = {}
    seen: dict[int, int] = {}
    for signup_id, role_id in rows:
        seen[role_id] = seen.get(role_id, 0) + 1
        positions[signup_id] = seen[role_id]
    return positions


async def fill_free_places(
    session: AsyncSession, clock: Clock, *, event: Event, role: EventRole, zone: str
) -> list[Signup]:
    """Confirm the first eligible waiting people into the role's free places (role locked, the
    event's status and times read under that lock). Nobody is promoted into a closed event."""
    if not is_open(event, clock.now()):
        return []
    free = free_places(role)
    if free <= 0:
        return []
    queue = await waiting(session, role.id)
    if not queue:
        return []
    limits = await lock_people(session, [s.person_id for s in queue])
    commitments = await load_commitments(session, [s.person_id for s in queue], event, zone)
    now = clock.now()
    promoted: list[Signup] = []
    for signup in queue:
        if len(promoted) == free:
            break
        if commitment_problem(event, zone, commitments.get(signup.person_id, []), limits[signup.person_id]):
            continue
        set_status(signup, role, SignupStatus.confirmed, now)
        promoted.append(signup)
    await session.flush()
    for signup in promoted:
        await emit_signup(session, clock, DomainEventType.signup_promoted, signup, event.station_id)
    return promoted


async def demote_latest_confirmed(
    session: AsyncSession, clock: Clock, *, event: Event, role: EventRole, how_many: int
) -> list[Signup]:
    """Move the latest confirmed people to the head of the waitlist, keeping their order among
    themselves (the earlier confirmed one waits ahead). Role locked."""
    latest = list(
        (
            await session.scalars(
                select(Signup)
                .where(Signup.role_id == role.id, Signup.status == SignupStatus.confirmed)
                .order_by(Signup.confirmed_at.desc(), Signup.id.desc())
                .limit(how_many)
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    head = await session.scalar(
        select(func.min(Signup.waitlist_seq)).where(
            Signup.role_id == role.id, Signup.status == SignupStatus.waitlisted
        )
    )
    now = clock.now()
    for signup in latest:
        # Each goes ahead of the queue's head: the earliest confirmed of them ends up first.
        set_status(
            signup, role, SignupStatus.waitlisted, now, waitlist_seq=None if head is None else head - 1
        )
        head = signup.waitlist_seq
    await session.flush()
    for signup in latest:
        await emit_signup(
            session,
            clock,
            DomainEventType.signup_waitlisted,
            signup,
            event.station_id,
            reason="role_count_lowered",
        )
    return latest
