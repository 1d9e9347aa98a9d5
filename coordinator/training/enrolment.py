"""Enrolment: invitations by the organizer, applications by people of the stations below it, and
the answers to both. An enrolled trainee is signed up to the course's open sessions. Each change
is a domain event, so the person hears of it (``notify.course_notices``).

Lock order: the course row, then (through sign-ups) a session's role, then the person."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.domain_events import DomainEventType
from coordinator.errors import Conflict, Invalid, not_found
from coordinator.people.models import Person
from coordinator.training.courses import get_course, may_manage, organizer_stations
from coordinator.training.models import Course, Enrolment, EnrolmentSource, EnrolmentStatus
from coordinator.training.schemas import EnrolmentAction, EnrolmentIn
from coordinator.training.sessions import leave_open_sessions, place_in_open_sessions

# What each answer needs the enrolment to be waiting for, and what it makes of it.
_ANSWERS = {
    EnrolmentAction.approve: (EnrolmentStatus.applied, EnrolmentStatus.enrolled),
    EnrolmentAction.reject: (EnrolmentStatus.applied, EnrolmentStatus.rejected),
    EnrolmentAction.accept: (EnrolmentStatus.invited, EnrolmentStatus.enrolled),
    EnrolmentAction.decline: (EnrolmentStatus.invited, EnrolmentStatus.declined),
    EnrolmentAction.withdraw: (EnrolmentStatus.enrolled, EnrolmentStatus.withdrawn),
}
_BY_ORGANIZER = (EnrolmentAction.approve, EnrolmentAction.reject)
# Still the person's concern: waiting for an answer, or a place in the course.
_STANDING = (EnrolmentStatus.invited, EnrolmentStatus.applied, EnrolmentStatus.enrolled)


def _speaks_for(principal: Principal, person: Person) -> bool:
    """The person themselves, or staff of their station."""
    if principal.role is Role.volunteer:
        return principal.person_id == person.id
    return principal.role in STAFF_ROLES and principal.can_access(person.station_id)


async def _check_below_organizer(session: AsyncSession, course: Course, person: Person) -> None:
    if person.station_id not in await organizer_stations(session, course):
        raise Invalid(
            "此人不属于主办单位辖下的服务站",
            f"Person {person.id} belongs to no station under the course's organizer",
            code="person_outside_organizer",
            field="person_id",
        )


async def request_enrolment(
    *,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    course_id: int,
    data: EnrolmentIn,
    source: EnrolmentSource,
) -> Enrolment:
    """An invitation (the organizer's staff) or an application (the person, or their station's staff)."""
    by_organizer = source is EnrolmentSource.invitation
    course = await get_course(session, principal, course_id, manage=by_organizer)
    person = await session.get(Person, data.person_id)
    if person is None or not (by_organizer or _speaks_for(principal, person)):
        raise not_found("人员", "person", data.person_id)
    await _check_below_organizer(session, course, person)
    if data.trainee_class not in course.target_classes:
        raise Invalid(
            f"本培训班不面向此类学员：{data.trainee_class}",
            f"The course does not target the class {data.trainee_class}",
            code="class_not_targeted",
            field="trainee_class",
        )
    enrolment = Enrolment(
        course_id=course.id,
        person_id=person.id,
        trainee_class=data.trainee_class,
        source=source,
        status=EnrolmentStatus.invited if by_organizer else EnrolmentStatus.applied,
        requested_by=principal.user_id,
        created_at=clock.now(),
    )
    session.add(enrolment)
    await flush_or_raise(
        session,
        Conflict(
            "此人已被邀请或已报名此培训班",
            f"Person {person.id} is already invited to or has applied for course {course.id}",
            code="enrolment_exists",
            field="person_id",
        ),
    )
    await _emit(session, clock, DomainEventType.enrolment_requested, enrolment, person)
    return enrolment


async def answer(
    *,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    course_id: int,
    person_id: int,
    action: EnrolmentAction,
) -> Enrolment:
    course = await get_course(session, principal, course_id, manage=action in _BY_ORGANIZER, for_update=True)
    enrolment = await session.scalar(
        select(Enrolment)
        .where(Enrolment.course_id == course.id, Enrolment.person_id == person_id)
        .with_for_update()
    )
    person = await session.get(Person, person_id)
    if (
        enrolment is None
        or person is None
        or not await _may_answer(session, principal, course, person, action)
    ):
        raise not_found("报名记录", "enrolment", person_id)
    waiting_for, outcome = _ANSWERS[action]
    if enrolment.status != waiting_for:
        raise Conflict(
            f"报名状态为 {enrolment.status}，不能{'审批' if action in _BY_ORGANIZER else '答复'}",
            f"The enrolment is {enrolment.status}; only a {waiting_for} one can be answered with {action}",
            code="enrolment_not_pending",
        )
    if outcome is EnrolmentStatus.enrolled:
        if course.enrolled_count >= course.capacity:
            raise Conflict("培训班名额已满", f"Course {course.id} is full", code="course_full")
        course.enrolled_count += 1
    elif outcome is EnrolmentStatus.withdrawn:
        course.enrolled_count -= 1
    enrolment.status = outcome
    enrolment.decided_by, enrolment.decided_at = principal.user_id, clock.now()
    await session.flush()
    if outcome is EnrolmentStatus.enrolled:
        await place_in_open_sessions(session, clock, course, person_id)
    elif outcome is EnrolmentStatus.withdrawn:
        await leave_open_sessions(session, clock, course, person_id)
    await _emit(session, clock, DomainEventType.enrolment_answered, enrolment, person)
    return enrolment


async def _emit(
    session: AsyncSession, clock: Clock, kind: DomainEventType, enrolment: Enrolment, person: Person
) -> None:
    # The status the change made: a handler delivered later tells only what is still true.
    await emit(
        session,
        clock,
        kind,
        aggregate_type="enrolment",
        aggregate_id=enrolment.id,
        station_id=person.station_id,
        payload={"course_id": enrolment.course_id, "person_id": person.id, "status": str(enrolment.status)},
    )


async def _may_answer(
    session: AsyncSession, principal: Principal, course: Course, person: Person, action: EnrolmentAction
) -> bool:
    if action in _BY_ORGANIZER:
        return True  # ``get_course`` let only the organizer's staff through
    if _speaks_for(principal, person):
        return True
    return action is EnrolmentAction.withdraw and await may_manage(session, principal, course)


async def list_enrolments(
    *, session: AsyncSession, principal: Principal, course_id: int, status: EnrolmentStatus | None
) -> list[Enrolment]:
    course = await get_course(session, principal, course_id, manage=True)
    stmt = select(Enrolment).where(Enrolment.course_id == course.id).order_by(Enrolment.id)
    if status is not None:
        stmt = stmt.where(Enrolment.status == status)
    return list(await session.scalars(stmt))


async def enrolment_of(session: AsyncSession, *, course_id: int, person_id: int) -> Enrolment | None:
    """The person's invitation, application or place in the course, whatever its status."""
    return await session.scalar(
        select(Enrolment).where(Enrolment.course_id == course_id, Enrolment.person_id == person_id)
    )


async def standing_enrolments(session: AsyncSession, person_id: int) -> list[tuple[Enrolment, Course]]:
    """The person's invitations and applications still waiting, and their places, newest first."""
    rows = await session.execute(
        select(Enrolment, Course)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.person_id == person_id, Enrolment.status.in_(_STANDING))
        .order_by(Enrolment.id.desc())
    )
    return [(enrolment, course) for enrolment, course in rows]
