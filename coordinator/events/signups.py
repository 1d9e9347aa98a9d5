"""Sign-ups: take a place or a waiting place in a role, cancel, list, change a role's count.

The rules live in ``signup_rules``, the places and the waitlist (and the lock order) in
``waitlist``. Every function here runs inside the caller's transaction and only flushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from coordinator.clock import Clock
from coordinator.db import is_postgres
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
    RoleRef,
    already_signed_up,
    check_event_open,
    check_not_signed_up,
    check_person_fits,
    commitment_problem,
    commitments_and_invited,
    pick_role,
)
from coordinator.events.waitlist import (
    SIGNUP_COLUMNS,
    claim_arrival,
    demote_latest_confirmed,
    emit_signup,
    fill_free_places,
    invited_count,
    lock_role,
    write_signup,
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
    invited: int = 0  # the role's unanswered invitations, counted under its lock
    signup_id: int | None = None  # reserved under the role's lock (PostgreSQL, when asked for)


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


_EVENTS: Table = Event.__table__  # type: ignore[assignment]  # mapped to a Table
_ROLES: Table = EventRole.__table__  # type: ignore[assignment]
_PEOPLE: Table = Person.__table__  # type: ignore[assignment]
_STATIONS: Table = Station.__table__  # type: ignore[assignment]
_SIGNUPS: Table = Signup.__table__  # type: ignore[assignment]

# Prebuilt Core statements of the sign-up path (compiled once, cached): loading ORM objects through
# the unit of work cost several times the database's own time per statement, and under contention
# that time is spent while the role's lock is held by someone waiting for the event loop.
_READ_EVENT = (
    select(_EVENTS, _STATIONS.c.timezone, _ROLES.c.id.label("role_id"), _ROLES.c.name.label("role_name"))
    .join(_STATIONS, _STATIONS.c.id == _EVENTS.c.station_id)
    .outerjoin(_ROLES, _ROLES.c.event_id == _EVENTS.c.id)
    .where(_EVENTS.c.id == bindparam("event_id"))
    .order_by(_ROLES.c.position)
)
_LOCK_PERSON = select(_PEOPLE).where(_PEOPLE.c.id == bindparam("person_id")).with_for_update()
_INSERT_SIGNUP = (
    insert(_SIGNUPS).values({column: bindparam(column) for column in SIGNUP_COLUMNS}).returning(_SIGNUPS.c.id)
)
_COUNT_CONFIRMED = (
    update(_ROLES)
    .where(_ROLES.c.id == bindparam("role_id"))
    .values(confirmed_count=_ROLES.c.confirmed_count + 1)
)


async def admit(
    session: AsyncSession,
    clock: Clock,
    *,
    event_id: int,
    person_id: int,
    role_id: int | None,
    reserve_id: bool = False,
) -> Admission:
    """Check every rule for a new live sign-up and lock what it changes (role, then person).

    Four statements: the event with its roles (no lock), the role's lock and arrival number, the
    person's lock, then (under both locks) the person's commitments with the role's invitations."""
    event, zone, roles = await _read_event(session, event_id)
    check_event_open(event, clock.now())
    reserve = reserve_id and is_postgres(session)
    role, arrival, signup_id = await claim_arrival(
        session, pick_role(roles, role_id), reserve_signup_id=reserve
    )
    person = await _lock_person(session, person_id, with_terms=bool(role.skills or role.languages))
    check_person_fits(event, role, person)
    commitments, invited = await commitments_and_invited(session, person.id, event, zone, role.id)
    check_not_signed_up(event, person.id, commitments)
    if problem := commitment_problem(event, zone, commitments, person.max_events_per_month):
        raise problem
    return Admission(event, zone, role, person, arrival, invited, signup_id)


async def _read_event(session: AsyncSession, event_id: int) -> tuple[Event, str, list[RoleRef]]:
    """The event (a plain instance outside the session: read, never changed here), its station's
    time zone and its roles in order, in one statement."""
    rows = (await session.execute(_READ_EVENT, {"event_id": event_id})).all()
    if not rows:
        raise not_found("活动", "event", event_id)
    first = rows[0]._mapping
    event = Event(**{column.key: first[column] for column in _EVENTS.c})
    roles = [RoleRef(row.role_id, row.role_name) for row in rows if row.role_id is not None]
    return event, first["timezone"], roles


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
        found = None if row is None else Person(**{c.key: row._mapping[c] for c in _PEOPLE.c})
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
        _refuse_duplicate(exc, signup.event_id, signup.person_id)
        raise


def _refuse_duplicate(exc: IntegrityError, event_id: int, person_id: int) -> None:
    text = str(exc.orig)  # PostgreSQL names the index, SQLite the columns
    if "uq_signups_live_person" in text or "signups.event_id, signups.person_id" in text:
        raise already_signed_up(event_id, person_id) from exc


async def _insert_signup(session: AsyncSession, values: dict[str, Any]) -> Signup:
    """One Core INSERT; the answer is the row as a detached instance (every column known), not
    read back and not in the session."""
    try:
        signup_id = (await session.execute(_INSERT_SIGNUP, values)).scalar_one()
    except IntegrityError as exc:
        _refuse_duplicate(exc, values["event_id"], values["person_id"])
        raise
    signup = Signup(id=signup_id, **values)
    make_transient_to_detached(signup)
    return signup


async def sign_up(
    session: AsyncSession,
    clock: Clock,
    *,
    event_id: int,
    person_id: int,
    role_id: int | None,
    source: SignupSource,
) -> Signup:
    """A confirmed place if the role has one free, else a waiting place at the end of its queue.

    Five statements on PostgreSQL (``admit``'s four, then the sign-up, the role's count and the
    outbox row in one); SQLite writes those one by one: see ``tests/api/test_signup_statements.py``."""
    admission = await admit(
        session, clock, event_id=event_id, person_id=person_id, role_id=role_id, reserve_id=True
    )
    role = admission.role
    now = clock.now()
    values: dict[str, Any] = dict.fromkeys(SIGNUP_COLUMNS)
    values.update(
        event_id=event_id, role_id=role.id, person_id=person_id, source=source, created_at=now, updated_at=now
    )
    if role.count - role.confirmed_count - admission.invited > 0:
        values.update(status=SignupStatus.confirmed, confirmed_at=now)
    else:
        values.update(status=SignupStatus.waitlisted, waitlist_seq=admission.arrival)
    confirmed = values["status"] == SignupStatus.confirmed
    kind = "SignupConfirmed" if confirmed else "SignupWaitlisted"
    if admission.signup_id is not None:
        signup = Signup(id=admission.signup_id, **values)
        make_transient_to_detached(signup)
        try:
            await write_signup(session, clock, signup, kind, admission.event.station_id, counted=confirmed)
        except IntegrityError as exc:
            _refuse_duplicate(exc, event_id, person_id)
            raise
    else:
        signup = await _insert_signup(session, values)
        if confirmed:
            await session.execute(_COUNT_CONFIRMED, {"role_id": role.id})
        await emit_signup(session, clock, kind, signup, admission.event.station_id, source=source)
    if confirmed:
        # The role stays in the session: keep its count as stored, without a flush of its own.
        set_committed_value(role, "confirmed_count", role.confirmed_count + 1)
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
