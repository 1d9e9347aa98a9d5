"""Places and the waitlist of one role: locks, free places, promotion, demotion, positions.

Locking (PostgreSQL; SQLite serializes whole transactions with ``BEGIN IMMEDIATE``):
every path that changes a role's places takes the role row first (``SELECT … FOR UPDATE``, the
``UPDATE … RETURNING`` of ``claim_arrival``, which locks and numbers the arrival in one round
trip, or the ``FOR NO KEY UPDATE`` of the procedure ``place_signup`` (``placing``), which
conflicts with both), then the rows of the people it may confirm, in ascending id, in one
statement. The role comes first because a promotion only learns whom it confirms by reading the
waitlist under the role's lock. No transaction of ours waits for a role while holding a person,
and people are always locked in id order, so these locks cannot deadlock. (The person's lock is
what makes the clash and monthly checks exact: two sign-ups of one person, or a sign-up and a
promotion of that person, take turns on it.)

- ``EventRole.confirmed_count`` and ``waitlisted_count`` are changed only under the role's lock:
  they stay exact.
- An invitation holds a place until it is answered or expires: places taken are
  ``confirmed_count`` plus the role's ``invited`` sign-ups (counted under the same lock).
- A waiting person's ``waitlist_seq`` comes from ``EventRole.next_waitlist_seq``; the position is
  the rank among the role's waiting sign-ups, so it only ever moves up (a new arrival's is the
  role's ``waitlisted_count`` plus one).
- A promotion skips waiting people who now clash with another confirmed event or have reached
  their monthly maximum: they keep their place in the queue and are considered again next time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.events.models import Event, EventRole, Signup, SignupStatus
from coordinator.events.signup_rules import commitment_problem, load_commitments, unknown_role
from coordinator.people.models import Person


async def lock_role(session: AsyncSession, role_id: int) -> EventRole:
    """The role row, locked and freshly read (an earlier read in this session may be stale)."""
    role = await session.scalar(
        select(EventRole)
        .where(EventRole.id == role_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert role is not None, f"role {role_id} vanished"  # roles are deleted only with their event
    return role


async def claim_arrival(session: AsyncSession, role_id: int) -> tuple[EventRole, int]:
    """Lock the role and take an arrival number in one statement (no separate lock round trip).

    Answers the role as it now is and the number, which becomes the ``waitlist_seq`` if the person
    has to wait; a confirmed arrival leaves a gap in the numbers, harmless since positions are ranks."""
    statement = (
        update(EventRole)
        .where(EventRole.id == role_id, EventRole.removed_at.is_(None))
        .values(next_waitlist_seq=EventRole.next_waitlist_seq + 1)
        .returning(EventRole)
    )
    role = (
        await session.scalars(
            statement, execution_options={"synchronize_session": False, "populate_existing": True}
        )
    ).first()
    if role is None:  # removed since the caller read the event's roles (see ``roles``)
        raise unknown_role(role_id)
    return role, role.next_waitlist_seq - 1


async def lock_people(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, int | None]:
    """Lock people rows in id order; answers each one's monthly maximum as it is now."""
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Person.id, Person.max_events_per_month)
        .where(Person.id.in_(sorted(set(person_ids))))
        .order_by(Person.id)
        .with_for_update()
    )
    return {person_id: limit for person_id, limit in rows}


async def invited_count(session: AsyncSession, role_id: int) -> int:
    count = await session.scalar(
        select(func.count()).where(Signup.role_id == role_id, Signup.status == SignupStatus.invited)
    )
    return int(count or 0)


async def free_places(session: AsyncSession, role: EventRole) -> int:
    """Places nobody holds; call with the role locked."""
    if role.confirmed_count >= role.count:
        return 0  # full without counting invitations: saves a query on a crowded role
    return role.count - role.confirmed_count - await invited_count(session, role.id)


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


def signup_payload(signup: Signup, **extra: str | int | None) -> dict[str, str | int | None]:
    return {
        "signup_id": signup.id,
        "event_id": signup.event_id,
        "role_id": signup.role_id,
        "person_id": signup.person_id,
        "status": signup.status,
        **extra,
    }


async def emit_signup(
    session: AsyncSession,
    clock: Clock,
    event_type: DomainEventType,
    signup: Signup,
    station_id: int,
    **extra: str | int | None,
) -> None:
    await emit(
        session,
        clock,
        event_type,
        aggregate_type="signup",
        aggregate_id=signup.id,
        station_id=station_id,
        payload=signup_payload(signup, **extra),
    )


async def fill_free_places(
    session: AsyncSession, clock: Clock, *, event: Event, role: EventRole, zone: str
) -> list[Signup]:
    """Confirm the first eligible waiting people into the role's free places (role locked)."""
    free = await free_places(session, role)
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
        signup.status = SignupStatus.confirmed
        signup.waitlist_seq = None
        signup.confirmed_at = signup.updated_at = now
        role.confirmed_count += 1
        role.waitlisted_count -= 1
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
        if head is None:
            head = role.next_waitlist_seq
            role.next_waitlist_seq += 1
        else:
            head -= 1
        signup.status = SignupStatus.waitlisted
        signup.waitlist_seq = head
        signup.confirmed_at = None
        signup.updated_at = now
        role.confirmed_count -= 1
        role.waitlisted_count += 1
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
