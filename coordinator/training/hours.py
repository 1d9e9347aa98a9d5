"""Training hours from attendance rows of course sessions: one person's records, and each
trainee's hours in a period (a year, a year to date) against their class's yearly requirement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.stats.queries import COUNTED_EVENT_STATUSES
from coordinator.training.classes import required_hours
from coordinator.training.models import Course, CourseSession, Enrolment, EnrolmentStatus
from coordinator.training.scope import Period


@dataclass(frozen=True)
class TrainingRecord:
    course_id: int
    topic: str
    event_id: int
    starts_at: datetime  # UTC
    zone: str  # the host station's
    hours: float


@dataclass(frozen=True)
class TraineeHours:
    person_id: int
    name: str
    station_id: int
    trainee_class: str  # of their latest enrolment among the period's courses
    sessions: int  # attended
    minutes: int
    required_hours: float  # in a calendar year

    @property
    def hours(self) -> float:
        return hours_of(self.minutes)

    @property
    def short_by(self) -> float:
        return max(0.0, round(self.required_hours - self.minutes / 60, 2))


def hours_of(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 2)


# An attendance row that counts: approved, attended, at a session that was held or is on.
_COUNTED = and_(
    Attendance.approved.is_(True),
    Attendance.status.in_(ATTENDED_STATUSES),
    Event.status.in_(COUNTED_EVENT_STATUSES),
)


def events_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Events that start in [start, end) and count (published or held, not drafts or cancelled ones)."""
    return and_(Event.starts_at >= start, Event.starts_at < end, Event.status.in_(COUNTED_EVENT_STATUSES))


def courses_held(start: datetime, end: datetime) -> Select[int]:
    """The ids of courses with a session in [start, end) (``events_in``)."""
    held = select(CourseSession.course_id).join(Event, Event.id == CourseSession.event_id)
    return held.where(events_in(start, end))


async def training_records(session: AsyncSession, person_id: int) -> list[TrainingRecord]:
    """The course sessions ``person_id`` attended, oldest first: course, session date, hours."""
    rows = await session.execute(
        select(Course.id, Course.topic, Event.id, Event.starts_at, Station.timezone, Attendance.minutes)
        .select_from(Attendance)
        .join(CourseSession, CourseSession.event_id == Attendance.event_id)
        .join(Course, Course.id == CourseSession.course_id)
        .join(Event, Event.id == Attendance.event_id)
        .join(Station, Station.id == Event.station_id)
        .where(Attendance.person_id == person_id, _COUNTED)
        .order_by(Event.starts_at, Event.id)
    )
    return [
        TrainingRecord(c, topic, e, at, zone, hours_of(minutes)) for c, topic, e, at, zone, minutes in rows
    ]


async def trainee_hours(
    session: AsyncSession, settings: Settings, station_ids: frozenset[int], period: Period
) -> list[TraineeHours]:
    """People of ``station_ids`` enrolled in a course with a session in ``period``, with the hours
    they attended at that period's sessions, by person id."""
    start, end = period.bounds(settings.default_timezone)
    stations = sorted(station_ids)
    enrolled = await session.execute(
        select(Enrolment.person_id, Enrolment.trainee_class, Person.name, Person.station_id)
        .join(Person, Person.id == Enrolment.person_id)
        .where(
            Enrolment.status == EnrolmentStatus.enrolled,
            Enrolment.course_id.in_(courses_held(start, end)),
            Person.station_id.in_(stations),
        )
        .order_by(Enrolment.id)
    )
    people = {person_id: (cls, name, station_id) for person_id, cls, name, station_id in enrolled}
    attended = await session.execute(
        select(Attendance.person_id, func.count(), func.sum(Attendance.minutes))
        .join(CourseSession, CourseSession.event_id == Attendance.event_id)
        .join(Event, Event.id == Attendance.event_id)
        .join(Person, Person.id == Attendance.person_id)
        .where(_COUNTED, events_in(start, end), Person.station_id.in_(stations))
        .group_by(Attendance.person_id)
    )
    done = {person_id: (n, minutes) for person_id, n, minutes in attended}
    found = []
    for person_id, (trainee_class, name, station_id) in sorted(people.items()):
        n, minutes = done.get(person_id, (0, 0))
        found.append(
            TraineeHours(
                person_id=person_id,
                name=name,
                station_id=station_id,
                trainee_class=trainee_class,
                sessions=n,
                minutes=minutes or 0,
                required_hours=required_hours(settings, trainee_class),
            )
        )
    return found
