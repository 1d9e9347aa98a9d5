"""The at-risk list of an event: confirmed people who have not confirmed their place in time.

"In time" is the confirmation deadline (``confirm_deadline_hours`` before the start). Each
person comes with their past no-shows (attendance rows marked ``no_show`` when earlier events
were completed), so the organizer knows whom to call first, and the list also shows the places
released so far, so a release is visible even where no message could reach the organizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import Attendance, AttendanceStatus
from coordinator.events.models import Event, EventRole, Signup, SignupStatus
from coordinator.notify.confirmations.links import confirm_deadline
from coordinator.notify.confirmations.models import PlaceAnswer, PlaceConfirmation
from coordinator.people.models import Person
from coordinator.settings import Settings


@dataclass(frozen=True)
class AtRiskPerson:
    signup_id: int
    person_id: int
    name: str
    phone: str
    role: str
    confirmed_at: datetime | None
    no_shows: int


@dataclass(frozen=True)
class ReleasedPlace:
    signup_id: int
    person_id: int
    name: str
    role: str
    released_at: datetime
    via: str


@dataclass(frozen=True)
class AtRiskReport:
    confirm_by: datetime
    deadline_passed: bool
    confirmed: int  # confirmed places whose holder confirmed
    awaiting: int  # confirmed places still without an answer
    people: list[AtRiskPerson]
    released: list[ReleasedPlace]


async def at_risk(
    session: AsyncSession, settings: Settings, *, event: Event, now: datetime, include_awaiting: bool
) -> AtRiskReport:
    """Before the deadline ``people`` is empty unless ``include_awaiting`` (nobody is late yet)."""
    confirm_by = confirm_deadline(settings, event.starts_at)
    rows = (
        await session.execute(
            select(Signup, Person, EventRole.name, PlaceConfirmation.answer)
            .join(Person, Person.id == Signup.person_id)
            .join(EventRole, EventRole.id == Signup.role_id)
            .outerjoin(PlaceConfirmation, PlaceConfirmation.signup_id == Signup.id)
            .where(Signup.event_id == event.id, Signup.status == SignupStatus.confirmed)
            .order_by(Signup.confirmed_at, Signup.id)
        )
    ).all()
    unanswered = [(signup, person, role) for signup, person, role, answer in rows if answer is None]
    passed = now >= confirm_by
    listed = unanswered if passed or include_awaiting else []
    no_shows = await _no_show_counts(session, [person.id for _, person, _ in listed])
    people = [
        AtRiskPerson(
            signup_id=signup.id,
            person_id=person.id,
            name=person.name,
            phone=person.phone,
            role=role,
            confirmed_at=signup.confirmed_at,
            no_shows=no_shows.get(person.id, 0),
        )
        for signup, person, role in listed
    ]
    # Likeliest to miss it first: most past no-shows, then the earliest sign-up.
    people.sort(key=lambda p: -p.no_shows)
    return AtRiskReport(
        confirm_by=confirm_by,
        deadline_passed=passed,
        confirmed=sum(1 for *_, answer in rows if answer == PlaceAnswer.confirmed),
        awaiting=len(unanswered),
        people=people,
        released=await _released(session, event.id),
    )


async def _no_show_counts(session: AsyncSession, person_ids: list[int]) -> dict[int, int]:
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Attendance.person_id, func.count())
        .where(Attendance.person_id.in_(person_ids), Attendance.status == AttendanceStatus.no_show)
        .group_by(Attendance.person_id)
    )
    return {person_id: int(count) for person_id, count in rows}


async def _released(session: AsyncSession, event_id: int) -> list[ReleasedPlace]:
    rows = await session.execute(
        select(PlaceConfirmation, Person.name, EventRole.name)
        .join(Signup, Signup.id == PlaceConfirmation.signup_id)
        .join(Person, Person.id == PlaceConfirmation.person_id)
        .join(EventRole, EventRole.id == Signup.role_id)
        .where(PlaceConfirmation.event_id == event_id, PlaceConfirmation.answer == PlaceAnswer.released)
        .order_by(PlaceConfirmation.answered_at, PlaceConfirmation.id)
    )
    return [
        ReleasedPlace(
            signup_id=answer.signup_id,
            person_id=answer.person_id,
            name=name,
            role=role,
            released_at=answer.answered_at,
            via=answer.via,
        )
        for answer, name, role in rows
    ]
