"""Sign-ups: take a place or a waiting place in a role, cancel, list, change a role's count.

The rules live in ``signup_rules``, the places and the waitlist (and the lock order) in
``waitlist``. Every function here runs inside the caller's transaction and only flushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from coordinator.clock import Clock
from coordinator.errors import Conflict, Invalid, NotFound, not_found
from coordinator.events.models import (
    LIVE_SIGNUP_STATUSES,
    Event,
    EventRole,
    EventStatus,
    Signup,
    SignupSource,
    SignupStatus,
)
from coordinator.events.signup_rules import (
    already_signed_up,
    check_event_open,
    check_not_signed_up,
    check_person_fits,
    commitment_problem,
    load_commitments,
    pick_role,
)
from coordinator.events.waitlist import (
    claim_arrival,
    demote_latest_confirmed,
    emit_signup,
    fill_free_places,
    free_places,
    invited_count,
    lock_role,
)
from coordinator.pagination import paginate
from coordinator.people.models import Person
from coordinator.stations.models import Station

MAX_ROLE_COUNT = 10_000


@dataclass(frozen=True)
class Admission:
    """What a new sign-up or invitation needs once every rule has passed: the role is locked."""

    event: Event
    zone: str
    role: EventRole
    person: Person
    arrival: int  # the waitlist number, should the person have to wait


@dataclass
class RoleCountChange:
    role: EventRole
    promoted: list[Signup] = field(default_factory=list)
    demoted: list[Signup] = field(default_factory=list)


async def load_event(session: AsyncSession, event_id: int, *, for_update: bool = False) -> tuple[Event, str]:
    """The event with its roles, and its station's time zone."""
    stmt = (
        select(Event, Station.timezone)
        .join(Station, Station.id == Event.station_id)
        .where(Event.id == event_id)
        .options(joinedload(Event.roles))
    )
    if for_update:
        stmt = stmt.with_for_update(of=Event).execution_options(populate_existing=True)
    row = (await session.execute(stmt)).unique().one_or_none()
    if row is None:
        raise not_found("活动", "event", event_id)
    return row[0], row[1]


async def admit(
    session: AsyncSession, clock: Clock, *, event_id: int, person_id: int, role_id: int | None
) -> Admission:
    """Check every rule for a new live sign-up and lock what it changes (role, then person)."""
    event, zone = await load_event(session, event_id)
    check_event_open(event, clock.now())
    role = pick_role(event, role_id)
    role, arrival = await claim_arrival(session, role.id)
    person = await _lock_person(session, person_id, with_terms=bool(role.skills or role.languages))
    check_person_fits(event, role, person)
    commitments = (await load_commitments(session, [person.id], event, zone)).get(person.id, [])
    check_not_signed_up(event, person.id, commitments)
    if problem := commitment_problem(event, zone, commitments, person.max_events_per_month):
        raise problem
    return Admission(event, zone, role, person, arrival)


async def _lock_person(session: AsyncSession, person_id: int, *, with_terms: bool) -> Person:
    """The person row, locked (after the role: see ``waitlist``) and read in the same statement."""
    stmt = (
        select(Person)
        .where(Person.id == person_id)
        .with_for_update(of=Person)
        .execution_options(populate_existing=True)
    )
    if with_terms:
        stmt = stmt.options(selectinload(Person.terms))
    person = await session.scalar(stmt)
    if person is None:
        raise not_found("人员", "person", person_id)
    return person


async def flush_new_signup(session: AsyncSession, signup: Signup) -> None:
    """Insert a live sign-up; the partial unique index backs the check made under the person's lock.

    No savepoint: a violation fails the whole unit of work, which is what the caller wants (a
    caller that must go on after a refusal wraps the call in ``session.begin_nested()``)."""
    session.add(signup)
    try:
        await session.flush()
    except IntegrityError as exc:
        text = str(exc.orig)  # PostgreSQL names the index, SQLite the columns
        if "uq_signups_live_person" in text or "signups.event_id, signups.person_id" in text:
            raise already_signed_up(signup.event_id, signup.person_id) from exc
        raise


async def sign_up(
    session: AsyncSession,
    clock: Clock,
    *,
    event_id: int,
    person_id: int,
    role_id: int | None,
    source: SignupSource,
) -> Signup:
    """A confirmed place if the role has one free, else a waiting place at the end of its queue."""
    admission = await admit(session, clock, event_id=event_id, person_id=person_id, role_id=role_id)
    role = admission.role
    now = clock.now()
    signup = Signup(
        event_id=event_id,
        role_id=role.id,
        person_id=person_id,
        source=source,
        created_at=now,
        updated_at=now,
    )
    if await free_places(session, role) > 0:
        signup.status = SignupStatus.confirmed
        signup.confirmed_at = now
        role.confirmed_count += 1
    else:
        signup.status = SignupStatus.waitlisted
        signup.waitlist_seq = admission.arrival
    await flush_new_signup(session, signup)
    kind = "SignupConfirmed" if signup.status == SignupStatus.confirmed else "SignupWaitlisted"
    await emit_signup(session, clock, kind, signup, admission.event.station_id, source=source)
    return signup


async def cancel_signup(session: AsyncSession, clock: Clock, *, event_id: int, person_id: int) -> Signup:
    """Cancel the person's live sign-up; a freed place goes to the first eligible waiting people."""
    event, zone = await load_event(session, event_id)
    check_event_open(event, clock.now())
    found = await session.scalar(_live_signup(event_id, person_id))
    if found is None:
        raise signup_not_found(event_id, person_id)
    role = await lock_role(session, found.role_id)
    # Re-read under the role's lock: every change of a sign-up's status takes that lock first.
    signup = await session.scalar(_live_signup(event_id, person_id).execution_options(populate_existing=True))
    if signup is None:
        raise signup_not_found(event_id, person_id)
    previous = signup.status
    await release_place(session, clock, signup=signup, role=role, status=SignupStatus.cancelled)
    await emit_signup(session, clock, "SignupCancelled", signup, event.station_id, previous_status=previous)
    if previous in (SignupStatus.confirmed, SignupStatus.invited):
        await fill_free_places(session, clock, event=event, role=role, zone=zone)
    return signup


async def release_place(
    session: AsyncSession, clock: Clock, *, signup: Signup, role: EventRole, status: SignupStatus
) -> None:
    """End a live sign-up (cancelled or declined); the caller holds the role's lock."""
    now = clock.now()
    if signup.status == SignupStatus.confirmed:
        role.confirmed_count -= 1
    signup.status = status
    signup.waitlist_seq = None
    signup.cancelled_at = signup.updated_at = now
    await session.flush()


def _live_signup(event_id: int, person_id: int) -> Select[Signup]:
    return select(Signup).where(
        Signup.event_id == event_id, Signup.person_id == person_id, Signup.status.in_(LIVE_SIGNUP_STATUSES)
    )


def signup_not_found(event_id: int, person_id: int) -> NotFound:
    return NotFound(
        "该人员没有报名此活动",
        f"Person {person_id} has no live sign-up for event {event_id}",
        code="signup_not_found",
    )


async def set_role_count(
    session: AsyncSession, clock: Clock, *, role: EventRole, count: int, force: bool
) -> RoleCountChange:
    """Change a role's places. Raising it promotes waiting people; lowering it below the places
    held is refused unless ``force``, which moves the latest confirmed to the head of the waitlist.

    Locks the event row (its capacity is the sum of the role counts), then the role, then people."""
    if not 0 <= count <= MAX_ROLE_COUNT:
        raise Invalid(
            f"名额须在 0 到 {MAX_ROLE_COUNT} 之间",
            f"count must be between 0 and {MAX_ROLE_COUNT}",
            code="invalid_count",
            field="count",
        )
    event, zone = await load_event(session, role.event_id, for_update=True)
    if event.status not in (EventStatus.draft, EventStatus.published) or event.starts_at <= clock.now():
        raise Conflict(
            "活动已开始、已取消或已结束，不能修改名额",
            f"Event {event.id} has started, is cancelled or completed: its places cannot change",
            code="event_not_open",
        )
    role = await lock_role(session, role.id)
    invited = await invited_count(session, role.id)
    change = RoleCountChange(role)
    if count < role.confirmed_count + invited:
        _check_may_lower(role, count, invited, force)
        role.count = count
        overflow = role.confirmed_count + invited - count
        change.demoted = await demote_latest_confirmed(
            session, clock, event=event, role=role, how_many=overflow
        )
    else:
        role.count = count
    event.capacity = sum(r.count for r in event.roles)
    event.updated_at = clock.now()
    await session.flush()
    change.promoted = await fill_free_places(session, clock, event=event, role=role, zone=zone)
    return change


def _check_may_lower(role: EventRole, count: int, invited: int, force: bool) -> None:
    if count < invited:
        raise Conflict(
            f"名额不能少于待答复的邀请数（{invited}）",
            f"count cannot be below the {invited} unanswered invitations of the role",
            code="role_count_below_invited",
            field="count",
            details={"invited": invited},
        )
    if not force:
        raise Conflict(
            f"岗位已确认 {role.confirmed_count} 人、邀请 {invited} 人，名额不能改为 {count}；"
            "如确需减少，请使用 force（最后确认的人将移入候补队首）",
            f"The role has {role.confirmed_count} confirmed and {invited} invited; count {count} is below "
            "that. Use force to move the latest confirmed to the head of the waitlist",
            code="role_count_below_confirmed",
            field="count",
            details={"confirmed": role.confirmed_count, "invited": invited},
        )


async def list_signups(
    session: AsyncSession,
    *,
    event_id: int,
    status: SignupStatus | None,
    role_id: int | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Signup], str | None]:
    stmt = select(Signup).where(Signup.event_id == event_id)
    if status is not None:
        stmt = stmt.where(Signup.status == status)
    if role_id is not None:
        stmt = stmt.where(Signup.role_id == role_id)
    return await paginate(session, stmt, keys=[Signup.id], limit=limit, cursor=cursor)
