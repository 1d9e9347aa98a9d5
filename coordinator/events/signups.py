"""Sign-ups: take a place or a waiting place in a role, cancel, list (a role's count: ``roles``).

The rules live in ``signup_rules``, the places and the waitlist (and the lock order) in
``waitlist``; a new sign-up reads with ``signup_target`` and locks and writes with ``placing``.
Every function here runs inside the caller's transaction and only flushes, but ``place`` when
asked to commit at once (the API's sign-up on PostgreSQL, ``placing``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from coordinator.clock import Clock
from coordinator.db import plain_instance
from coordinator.domain_events import DomainEventType
from coordinator.driver_sql import DriverStatement
from coordinator.errors import NotFound, not_found
from coordinator.events.models import (
    LIVE_SIGNUP_STATUSES,
    Event,
    EventRole,
    Signup,
    SignupSource,
    SignupStatus,
)
from coordinator.events.placing import Placed, read_place, refuse_duplicate, write_place
from coordinator.events.signup_rules import (
    check_event_open,
    check_not_signed_up,
    check_person_fits,
    commitment_parameters,
    commitment_problem,
    commitments_and_invited,
    pick_role,
)
from coordinator.events.signup_target import SignupTarget, read_target
from coordinator.events.waitlist import (
    claim_arrival,
    emit_signup,
    fill_free_places,
    lock_role,
)
from coordinator.pagination import paginate
from coordinator.people.models import Person, PersonTerm
from coordinator.stations.models import Station


@dataclass(frozen=True)
class Admission:
    """What a new sign-up or invitation needs once every rule has passed: the role is locked."""

    event: Event
    zone: str
    role: EventRole
    person: Person
    arrival: int  # the waitlist number, should the person have to wait
    invited: int = 0  # the role's unanswered invitations, counted under its lock


async def load_event(session: AsyncSession, event_id: int, *, for_update: bool = False) -> tuple[Event, str]:
    """The event with its roles, and its station's time zone."""
    stmt = (
        select(Event, Station.timezone)
        .join(Station, Station.id == Event.station_id)
        .where(Event.id == event_id)
        .options(joinedload(Event.roles))
    )
    if for_update:
        # NO KEY: sign-ups' foreign-key checks on the event pass (see ``service``'s docstring).
        stmt = stmt.with_for_update(of=Event, key_share=True).execution_options(populate_existing=True)
    row = (await session.execute(stmt)).unique().one_or_none()
    if row is None:
        raise not_found("活动", "event", event_id)
    return row[0], row[1]


_PEOPLE: Table = Person.__table__  # type: ignore[assignment]  # mapped to a Table
_TERMS: Table = PersonTerm.__table__  # type: ignore[assignment]

# Prebuilt Core statements (compiled once, cached): loading ORM objects through the unit of work
# cost several times the database's own time per statement.
_READ_TERMS = DriverStatement(
    select(_TERMS.c.kind, _TERMS.c.code).where(_TERMS.c.person_id == bindparam("person_id")), begins=False
)
_LOCK_PERSON = select(_PEOPLE).where(_PEOPLE.c.id == bindparam("person_id")).with_for_update()


async def admit(
    session: AsyncSession, clock: Clock, *, event_id: int, person_id: int, role_id: int | None
) -> Admission:
    """Check every rule for a new live sign-up and lock what it changes (role, then person).

    Four statements: the event with its roles and the person (no lock), the role's lock and
    arrival number, the person's lock, then (under both locks) the person's commitments with the
    role's invitations."""
    target = await read_target(session, event_id=event_id, person_id=person_id)
    event, zone = target.event, target.zone
    check_event_open(event, clock.now())
    role, arrival = await claim_arrival(session, pick_role(target.roles, role_id))
    person = await _lock_person(session, person_id, with_terms=bool(role.skills or role.languages))
    check_person_fits(event, role, person)
    commitments, invited = await commitments_and_invited(session, person.id, event, zone, role.id)
    check_not_signed_up(event, person.id, commitments)
    if problem := commitment_problem(event, zone, commitments, person.max_events_per_month):
        raise problem
    return Admission(event, zone, role, person, arrival, invited)


async def _lock_person(session: AsyncSession, person_id: int, *, with_terms: bool) -> Person:
    """The person row, locked (after the role: see ``waitlist``) and read in the same statement.

    Without terms to check, a plain instance outside the session from a Core read; with them, the
    ORM loads the person with their terms."""
    if with_terms:
        found = await session.scalar(
            select(Person)
            .where(Person.id == person_id)
            .with_for_update(of=Person)
            .execution_options(populate_existing=True)
            .options(selectinload(Person.terms))
        )
    else:
        row = (await session.execute(_LOCK_PERSON, {"person_id": person_id})).first()
        found = None if row is None else plain_instance(Person, {c.key: row._mapping[c] for c in _PEOPLE.c})
    if found is None:
        raise not_found("人员", "person", person_id)
    return found


async def flush_new_signup(session: AsyncSession, signup: Signup) -> None:
    """Insert a live sign-up; the partial unique index backs the check made under the person's lock.

    No savepoint: a violation fails the whole unit of work, which is what the caller wants (a
    caller that must go on after a refusal wraps the call in ``session.begin_nested()``)."""
    session.add(signup)
    try:
        await session.flush()
    except IntegrityError as exc:
        refuse_duplicate(exc, signup.event_id, signup.person_id)
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
    """``place`` for callers that have not read the target."""
    target = await read_target(session, event_id=event_id, person_id=person_id)
    return (await place(session, clock, target, role_id=role_id, source=source)).signup


async def place(
    session: AsyncSession,
    clock: Clock,
    target: SignupTarget,
    *,
    role_id: int | None,
    source: SignupSource,
    commit_at_once: bool = False,
) -> Placed:
    """A confirmed place if the role has one free, else a waiting place at the end of its queue.

    After ``read_target``: ``placing.read_place`` reads what the rules check, they are checked,
    and ``placing.write_place`` writes, which on PostgreSQL takes the locks and makes sure that
    what the rules read is still so (``placing`` says how). Three statements on PostgreSQL in
    all; SQLite writes one by one (``test_signup_statements``). ``commit_at_once``: the sign-up
    is the caller's whole unit of work, so on PostgreSQL, when nothing has begun a transaction,
    it is committed as it is written, and the role's lock ends there (``placing``)."""
    event, zone = target.event, target.zone
    check_event_open(event, clock.now())
    chosen = pick_role(target.roles, role_id)
    if target.person is None:
        raise not_found("人员", "person", target.person_id)
    parameters = commitment_parameters(target.person_id, event, zone)
    while True:
        reading = await read_place(session, chosen, target.person_id, parameters)
        if reading is None:
            raise not_found("人员", "person", target.person_id)
        if reading.role.skills or reading.role.languages:
            await _load_terms(session, reading.person)
        check_person_fits(event, reading.role, reading.person)
        check_not_signed_up(event, target.person_id, reading.commitments)
        limit = reading.person.max_events_per_month
        if problem := commitment_problem(event, zone, reading.commitments, limit):
            raise problem
        placed = await write_place(
            session,
            clock,
            event=event,
            reading=reading,
            source=source,
            commitment_parameters=parameters,
            commit_at_once=commit_at_once,
        )
        if placed is not None:
            return placed
        # What the rules read changed before the locks were ours: a sign-up of the person, a
        # change of the person or of the role's requirements committed meanwhile, or (even under
        # the locks) a cancellation or a reschedule, which take no person lock. Read and check
        # again; each such change is rare and happens once, so this ends.


async def _load_terms(session: AsyncSession, person: Person) -> None:
    """The skills and languages of the person ``read_place`` read."""
    rows = await _READ_TERMS.fetch(session, {"person_id": person.id})
    terms = [PersonTerm(person_id=person.id, kind=row["kind"], code=row["code"]) for row in rows]
    set_committed_value(person, "terms", terms)


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
    await emit_signup(
        session, clock, DomainEventType.signup_cancelled, signup, event.station_id, previous_status=previous
    )
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
    elif signup.status == SignupStatus.waitlisted:
        role.waitlisted_count -= 1
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
