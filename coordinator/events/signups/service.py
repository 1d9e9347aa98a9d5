"""Sign-ups: take a place or a waiting place in a role, cancel, list. One path on every database
and for every caller (the API, the pages, invitations, the matcher): in the caller's transaction,
lock the role, then the person, check every rule (``rules``), write; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.errors import NotFound, not_found
from coordinator.events.models import (
    LIVE_SIGNUP_STATUSES,
    Event,
    EventRole,
    Signup,
    SignupSource,
    SignupStatus,
)
from coordinator.events.service import load_event
from coordinator.events.signups.commitments import load_commitments
from coordinator.events.signups.places import (
    emit_signup,
    lock_person,
    lock_role,
    refresh_event,
    set_status,
)
from coordinator.events.signups.rules import (
    already_signed_up,
    check_event_open,
    check_one_live_signup,
    check_requirements,
    commitment_problem,
    free_places,
    pick_role,
    unknown_role,
)
from coordinator.events.signups.waitlist import fill_free_places
from coordinator.pagination import paginate
from coordinator.people.models import Person


@dataclass(frozen=True)
class Admission:
    """A new live sign-up that passed every rule: its role and person are locked."""

    role: EventRole
    person: Person


@dataclass(frozen=True)
class Placed:
    signup: Signup
    person: Person
    position: int | None  # in the role's waitlist (1 = next), when waiting


async def admit(
    session: AsyncSession, clock: Clock, event: Event, zone: str, *, person_id: int, role_id: int | None
) -> Admission:
    """Lock the role, then the person, and check every rule for a new live sign-up."""
    check_event_open(event, clock.now())  # early, on the unlocked read; again under the locks
    role = await lock_role(session, pick_role(event.roles, role_id))
    if role.removed_at is not None:
        raise unknown_role(role.id)
    person = await lock_person(session, person_id, event, with_terms=bool(role.skills or role.languages))
    if person is None:
        raise not_found("人员", "person", person_id)
    check_event_open(event, clock.now())
    check_requirements(event, role, person)
    commitments = (await load_commitments(session, [person_id], event, zone)).get(person_id, [])
    check_one_live_signup(event, person_id, commitments)
    if problem := commitment_problem(event, zone, commitments, person.max_events_per_month):
        raise problem
    return Admission(role, person)


async def sign_up(
    session: AsyncSession,
    clock: Clock,
    event: Event,
    zone: str,
    *,
    person_id: int,
    role_id: int | None,
    source: SignupSource,
) -> Placed:
    """A confirmed place if the role has one free, else a waiting place at the end of its queue."""
    admission = await admit(session, clock, event, zone, person_id=person_id, role_id=role_id)
    role, now = admission.role, clock.now()
    free = free_places(role) > 0
    signup = Signup(event_id=event.id, role_id=role.id, person_id=person_id, source=source, created_at=now)
    set_status(signup, role, SignupStatus.confirmed if free else SignupStatus.waitlisted, now)
    await add_signup(session, signup)
    kind = DomainEventType.signup_confirmed if free else DomainEventType.signup_waitlisted
    await emit_signup(session, clock, kind, signup, event.station_id, source=source)
    # Last in the queue: the role's waiting count is exact under its lock.
    return Placed(signup, admission.person, None if free else role.waitlisted_count)


async def add_signup(session: AsyncSession, signup: Signup) -> None:
    """Insert a live sign-up; the partial unique index refuses a second one of the person."""
    session.add(signup)
    try:
        await session.flush()
    except IntegrityError as exc:
        text = str(exc.orig)  # PostgreSQL names the index, SQLite the columns
        if "uq_signups_live_person" in text or "signups.event_id, signups.person_id" in text:
            raise already_signed_up(signup.event_id, signup.person_id) from exc
        raise


async def cancel_signup(session: AsyncSession, clock: Clock, *, event_id: int, person_id: int) -> Signup:
    """Cancel the person's live sign-up; a freed place goes to the first eligible waiting people."""
    event, zone = await load_event(session, event_id)
    check_event_open(event, clock.now())
    found = await session.scalar(_live_signup(event_id, person_id))
    if found is None:
        raise signup_not_found(event_id, person_id)
    role = await lock_role(session, found.role_id)
    # Read again under the role's lock: every change of a sign-up's status, and of the event's
    # status or times, takes that lock first.
    await refresh_event(session, event)
    check_event_open(event, clock.now())
    signup = await session.scalar(_live_signup(event_id, person_id).execution_options(populate_existing=True))
    if signup is None:
        raise signup_not_found(event_id, person_id)
    previous = signup.status
    set_status(signup, role, SignupStatus.cancelled, clock.now())
    await session.flush()
    await emit_signup(
        session, clock, DomainEventType.signup_cancelled, signup, event.station_id, previous_status=previous
    )
    if previous in (SignupStatus.confirmed, SignupStatus.invited):
        await fill_free_places(session, clock, event=event, role=role, zone=zone)
    return signup


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
