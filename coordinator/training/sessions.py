"""A course's sessions: each one a published ``training`` event at a host station, with every
enrolled trainee signed up to it, so that the calendar, reminders, check-in and the roster are
the events' own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.events.models import LIVE_SIGNUP_STATUSES, Event, Signup, SignupSource, SignupStatus
from coordinator.events.schemas import EventCreate, RoleIn
from coordinator.events.service import create_event, load_event, publish_event
from coordinator.events.signups.rules import is_open
from coordinator.events.signups.service import cancel_signup, sign_up
from coordinator.regions.service import stations_below
from coordinator.stations.models import Station
from coordinator.training.courses import get_course
from coordinator.training.models import Course, CourseSession, Enrolment, EnrolmentStatus
from coordinator.training.schemas import SessionCreate

TRAINEE_ROLE = "学员"


@dataclass(frozen=True)
class SessionView:
    row: CourseSession
    event: Event
    signed_up: int
    zone: str  # the host station's time zone


async def add_session(
    *, session: AsyncSession, clock: Clock, principal: Principal, course_id: int, data: SessionCreate
) -> SessionView:
    course = await get_course(session, principal, course_id, manage=True, for_update=True)
    station_id = await _host_station(session, course, data.station_id)
    created = await create_event(
        session,
        clock,
        data=EventCreate(
            station_id=station_id,
            theme="training",
            title=data.title or course.topic,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            location=data.location,
            roles=[RoleIn(name=TRAINEE_ROLE, count=course.capacity)],
        ),
        created_by=principal.user_id,
    )
    await publish_event(session, clock, event=created)
    row = CourseSession(course_id=course.id, event_id=created.id, online=data.online)
    session.add(row)
    await session.flush()
    enrolled = await session.scalars(
        select(Enrolment.person_id)
        .where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.enrolled)
        .order_by(Enrolment.person_id)
    )
    event, zone = await load_event(session, created.id)
    placed = 0
    for person_id in enrolled:
        await sign_up(
            session, clock, event, zone, person_id=person_id, role_id=None, source=SignupSource.organizer
        )
        placed += 1
    return SessionView(row, event, placed, zone)


async def place_in_open_sessions(session: AsyncSession, clock: Clock, course: Course, person_id: int) -> None:
    """Sign a newly enrolled trainee up to every session of ``course`` still open for sign-ups."""
    event_ids = await session.scalars(
        select(CourseSession.event_id)
        .where(CourseSession.course_id == course.id)
        .order_by(CourseSession.event_id)
    )
    for event_id in list(event_ids):
        event, zone = await load_event(session, event_id)
        if is_open(event, clock.now()):
            await sign_up(
                session, clock, event, zone, person_id=person_id, role_id=None, source=SignupSource.organizer
            )


async def leave_open_sessions(session: AsyncSession, clock: Clock, course: Course, person_id: int) -> None:
    """Cancel a withdrawn trainee's places in the sessions still open; each freed place goes to
    whoever waits for it, as any cancellation does."""
    event_ids = await session.scalars(
        select(Signup.event_id)
        .join(CourseSession, CourseSession.event_id == Signup.event_id)
        .where(
            CourseSession.course_id == course.id,
            Signup.person_id == person_id,
            Signup.status.in_(LIVE_SIGNUP_STATUSES),
        )
        .order_by(Signup.event_id)
    )
    for event_id in list(event_ids):
        event, _ = await load_event(session, event_id)
        if is_open(event, clock.now()):
            await cancel_signup(session, clock, event_id=event_id, person_id=person_id)


async def list_sessions(*, session: AsyncSession, principal: Principal, course_id: int) -> list[SessionView]:
    course = await get_course(session, principal, course_id, manage=False)
    signed_up = (
        select(func.count())
        .where(Signup.event_id == Event.id, Signup.status == SignupStatus.confirmed)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(CourseSession, Event, signed_up, Station.timezone)
        .join(Event, Event.id == CourseSession.event_id)
        .join(Station, Station.id == Event.station_id)
        .where(CourseSession.course_id == course.id)
        .order_by(Event.starts_at, Event.id)
    )
    return [SessionView(row, event, n, zone) for row, event, n, zone in rows]


async def _host_station(session: AsyncSession, course: Course, station_id: int | None) -> int:
    if course.station_id is not None:
        if station_id not in (None, course.station_id):
            raise Invalid(
                "服务站的培训班只能在本站举办",
                "A station's course holds its sessions at that station",
                code="host_station_outside_organizer",
                field="station_id",
            )
        return course.station_id
    assert course.region_id is not None
    if station_id is None or station_id not in await stations_below(session, course.region_id):
        raise Invalid(
            "请指定主办区域内的一个服务站作为举办地（线上培训也需要）",
            "Give a station below the organizing region to hold the session (online ones too)",
            code="host_station_outside_organizer",
            field="station_id",
        )
    return station_id
