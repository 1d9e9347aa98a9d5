"""A role's places: its lock, the people's locks, the one way a sign-up's status changes (which
keeps the role's counts), and the domain events that announce it. Lock order and why the
counts stay exact: docs/concurrency.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.events.models import Event, EventRole, Signup, SignupStatus
from coordinator.people.models import Person

_COUNTERS = {
    SignupStatus.confirmed: "confirmed_count",
    SignupStatus.invited: "invited_count",
    SignupStatus.waitlisted: "waitlisted_count",
}
_ENDED = (SignupStatus.cancelled, SignupStatus.declined)


# The hot statements are built once: SQLAlchemy then reuses their compiled form and cache key
# (building a select per call cost as much CPU as running it).
_LOCK_ROLE = (
    select(EventRole)
    .where(EventRole.id == bindparam("role_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_LOCK_PERSON = (
    select(Person, Event.status, Event.starts_at, Event.ends_at)
    .join(Event, Event.id == bindparam("event_id"))
    .where(Person.id == bindparam("person_id"))
    .with_for_update(of=Person)
    .execution_options(populate_existing=True)
)
_LOCK_PERSON_WITH_TERMS = _LOCK_PERSON.options(selectinload(Person.terms))


async def lock_role(session: AsyncSession, role_id: int) -> EventRole:
    """The role row, locked (``FOR UPDATE``) and read afresh. A removed role is locked too:
    callers taking a new place check ``removed_at``."""
    role = await session.scalar(_LOCK_ROLE, {"role_id": role_id})
    assert role is not None, f"role {role_id} vanished"  # roles are deleted only with their event
    return role


async def lock_person(
    session: AsyncSession, person_id: int, event: Event, *, with_terms: bool
) -> Person | None:
    """The person's row, locked after the role's, and ``event``'s status and times read again in
    the same statement: a cancellation or a move of the event locks its roles first, so what this
    reads stays true until the commit."""
    statement = _LOCK_PERSON_WITH_TERMS if with_terms else _LOCK_PERSON
    row = (await session.execute(statement, {"person_id": person_id, "event_id": event.id})).first()
    if row is None:
        return None
    person, status, starts_at, ends_at = row
    for key, value in (("status", status), ("starts_at", starts_at), ("ends_at", ends_at)):
        set_committed_value(event, key, value)
    return person


async def refresh_event(session: AsyncSession, event: Event) -> None:
    """``event``'s status and times as they are now; call with one of its roles locked."""
    await session.refresh(event, ["status", "starts_at", "ends_at"])


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


async def lock_event_roles(session: AsyncSession, event: Event) -> None:
    """Lock every role of ``event`` (id order): a change of its status or times waits for the
    sign-ups in flight, and the sign-ups after it read the change (``lock_person``)."""
    await session.execute(
        select(EventRole)
        .where(EventRole.event_id == event.id)
        .order_by(EventRole.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def set_status(
    signup: Signup, role: EventRole, status: SignupStatus, now: datetime, *, waitlist_seq: int | None = None
) -> None:
    """Move ``signup`` (new or live) to ``status``, the role's counts with it; the caller holds the
    role's lock. A waiting sign-up joins the end of the queue unless ``waitlist_seq`` says where."""
    previous = signup.status
    if previous in _COUNTERS:
        setattr(role, _COUNTERS[previous], getattr(role, _COUNTERS[previous]) - 1)
    if status in _COUNTERS:
        setattr(role, _COUNTERS[status], getattr(role, _COUNTERS[status]) + 1)
    signup.status = status
    signup.updated_at = now
    if status == SignupStatus.waitlisted:
        if waitlist_seq is None:
            waitlist_seq = role.next_waitlist_seq
            role.next_waitlist_seq += 1
        signup.waitlist_seq = waitlist_seq
        signup.confirmed_at = None
    else:
        signup.waitlist_seq = None
    if status == SignupStatus.confirmed:
        signup.confirmed_at = now
    elif status in _ENDED:
        signup.cancelled_at = now


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
