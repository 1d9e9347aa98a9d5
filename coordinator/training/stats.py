"""Training figures of a station or a region for a period (a year, a month, a year to date):
courses and sessions by who organized them, trainees (by class), hours and shortfalls by the
trainee's own station."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.events.models import Event
from coordinator.settings import Settings
from coordinator.training.classes import class_label
from coordinator.training.courses import organized_in
from coordinator.training.hours import events_in, hours_of, trainee_hours
from coordinator.training.models import Course, CourseSession
from coordinator.training.schemas import ClassCount, TrainingFigures
from coordinator.training.scope import Period, Scope


async def training_figures(
    session: AsyncSession, settings: Settings, scope: Scope, period: Period
) -> TrainingFigures:
    start, end = period.bounds(settings.default_timezone)
    courses, sessions = (
        await session.execute(
            select(func.count(distinct(Course.id)), func.count(CourseSession.id))
            .join(CourseSession, CourseSession.course_id == Course.id)
            .join(Event, Event.id == CourseSession.event_id)
            .where(organized_in(scope), events_in(start, end))
        )
    ).one()
    trainees = await trainee_hours(session, settings, scope.station_ids, period)
    by_class = Counter(t.trainee_class for t in trainees)
    return TrainingFigures(
        region_id=scope.region_id,
        station_id=scope.station_id,
        name=scope.name,
        courses=courses,
        sessions=sessions,
        trainees=len(trainees),
        by_class=[
            ClassCount(trainee_class=code, label=class_label(code), trainees=by_class[code])
            # the configured classes first; a class no longer configured still counts
            for code in [*settings.trainee_classes, *sorted(set(by_class) - set(settings.trainee_classes))]
            if by_class[code]
        ],
        person_times=sum(t.sessions for t in trainees),
        hours=hours_of(sum(t.minutes for t in trainees)),
        short_of_requirement=sum(t.short_by > 0 for t in trainees),
    )
