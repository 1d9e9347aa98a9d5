"""Routes of training: courses, their sessions and enrolments, hours and statistics."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, status

from coordinator.clock import Clock
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.settings import Settings
from coordinator.stats.person_stats import load_person
from coordinator.training import courses, enrolment, sessions
from coordinator.training.classes import class_label, required_hours
from coordinator.training.hours import trainee_hours, training_records
from coordinator.training.models import EnrolmentSource, EnrolmentStatus
from coordinator.training.schemas import (
    CourseCreate,
    CourseOut,
    EnrolmentAction,
    EnrolmentIn,
    EnrolmentOut,
    SessionCreate,
    SessionOut,
    TraineeClassOut,
    TraineeHoursOut,
    TrainingRecordOut,
    TrainingStatsOut,
)
from coordinator.training.scope import Period, RegionQuery, StationQuery, YearQuery, parts, resolve_scope
from coordinator.training.stats import training_figures

router = APIRouter(tags=["training"], responses=ERROR_RESPONSES)


def _year(year: int | None, clock: Clock, settings: Settings) -> int:
    return year if year is not None else clock.now().astimezone(ZoneInfo(settings.default_timezone)).year


def _session_out(view: sessions.SessionView) -> SessionOut:
    event, zone = view.event, ZoneInfo(view.zone)
    return SessionOut(
        id=view.row.id, course_id=view.row.course_id, event_id=event.id, station_id=event.station_id,
        title=event.title, starts_at=event.starts_at.astimezone(zone), ends_at=event.ends_at.astimezone(zone),
        location=event.location,
        online=view.row.online, status=event.status, signed_up=view.signed_up,
    )  # fmt: skip


@router.get("/training/classes", response_model=list[TraineeClassOut],
            summary="Classes of trainees and their yearly training requirement")  # fmt: skip
async def list_classes(settings: SettingsDep, principal: PrincipalDep) -> list[TraineeClassOut]:
    return [
        TraineeClassOut(code=code, label=class_label(code), required_hours=required_hours(settings, code))
        for code in settings.trainee_classes
    ]


@router.post("/courses", status_code=status.HTTP_201_CREATED, response_model=CourseOut,
             summary="Add a training course (staff of the organizing region or station)")  # fmt: skip
async def create_course(
    data: CourseCreate, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep
) -> CourseOut:
    course = await courses.create_course(
        session=session, clock=clock, settings=settings, principal=principal, data=data
    )
    return CourseOut.model_validate(course)


@router.get("/courses", response_model=Page[CourseOut],
            summary="Courses you organize, and those open to people of your stations")  # fmt: skip
async def list_courses(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = 100, cursor: CursorQuery = None
) -> Page[CourseOut]:
    rows, next_cursor = await courses.list_courses(
        session=session, principal=principal, limit=limit, cursor=cursor
    )
    return Page(items=[CourseOut.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/courses/{course_id}", response_model=CourseOut, summary="One course")
async def get_course(course_id: Id, session: SessionDep, principal: PrincipalDep) -> CourseOut:
    return CourseOut.model_validate(await courses.get_course(session, principal, course_id, manage=False))


@router.post("/courses/{course_id}/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionOut,
             summary="Add a session: a published training event, enrolled trainees signed up")  # fmt: skip
async def add_session(
    course_id: Id, data: SessionCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> SessionOut:
    view = await sessions.add_session(
        session=session, clock=clock, principal=principal, course_id=course_id, data=data
    )
    return _session_out(view)


@router.get("/courses/{course_id}/sessions", response_model=list[SessionOut], summary="A course's sessions")
async def list_sessions(course_id: Id, session: SessionDep, principal: PrincipalDep) -> list[SessionOut]:
    views = await sessions.list_sessions(session=session, principal=principal, course_id=course_id)
    return [_session_out(view) for view in views]


@router.post("/courses/{course_id}/invitations", status_code=status.HTTP_201_CREATED,
             response_model=EnrolmentOut,
             summary="Invite a person of a station below the organizer (the organizer's staff)")  # fmt: skip
async def invite(
    course_id: Id, data: EnrolmentIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> EnrolmentOut:
    found = await enrolment.request_enrolment(
        session=session, clock=clock, principal=principal, course_id=course_id, data=data,
        source=EnrolmentSource.invitation,
    )  # fmt: skip
    return EnrolmentOut.model_validate(found)


@router.post("/courses/{course_id}/applications", status_code=status.HTTP_201_CREATED,
             response_model=EnrolmentOut,
             summary="Apply for a course (the person, or staff of their station)")  # fmt: skip
async def apply(
    course_id: Id, data: EnrolmentIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> EnrolmentOut:
    found = await enrolment.request_enrolment(
        session=session, clock=clock, principal=principal, course_id=course_id, data=data,
        source=EnrolmentSource.application,
    )  # fmt: skip
    return EnrolmentOut.model_validate(found)


@router.post(
    "/courses/{course_id}/enrolments/{person_id}/{action}",
    response_model=EnrolmentOut,
    summary="Approve or reject an application; accept or decline an invitation; withdraw",
)
async def answer(
    course_id: Id, person_id: Id, action: EnrolmentAction, session: SessionDep, clock: ClockDep,
    principal: PrincipalDep,
) -> EnrolmentOut:  # fmt: skip
    found = await enrolment.answer(
        session=session,
        clock=clock,
        principal=principal,
        course_id=course_id,
        person_id=person_id,
        action=action,
    )
    return EnrolmentOut.model_validate(found)


@router.get("/courses/{course_id}/enrolments", response_model=list[EnrolmentOut],
            summary="Invitations, applications and trainees of a course (the organizer's staff)")  # fmt: skip
async def list_enrolments(
    course_id: Id, session: SessionDep, principal: PrincipalDep, status: EnrolmentStatus | None = None
) -> list[EnrolmentOut]:
    rows = await enrolment.list_enrolments(
        session=session, principal=principal, course_id=course_id, status=status
    )
    return [EnrolmentOut.model_validate(row) for row in rows]


@router.get("/people/{person_id}/training", response_model=list[TrainingRecordOut],
            summary="Training sessions a person attended, with hours")  # fmt: skip
async def person_training(
    person_id: Id, session: SessionDep, principal: PrincipalDep
) -> list[TrainingRecordOut]:
    person = await load_person(session, principal, person_id)
    return [
        TrainingRecordOut(course_id=r.course_id, topic=r.topic, event_id=r.event_id,
                          starts_at=r.starts_at.astimezone(ZoneInfo(r.zone)), hours=r.hours)
        for r in await training_records(session, person.id)
    ]  # fmt: skip


@router.get("/training/hours", response_model=list[TraineeHoursOut],
            summary="Each trainee's hours in a year against the requirement, and who is short")  # fmt: skip
async def hours(
    session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep,
    region_id: RegionQuery = None, station_id: StationQuery = None, year: YearQuery = None,
    short_only: Annotated[bool, Query(description="Only people short of their requirement")] = False,
) -> list[TraineeHoursOut]:  # fmt: skip
    scope = await resolve_scope(session, principal, region_id=region_id, station_id=station_id)
    found = await trainee_hours(
        session, settings, scope.station_ids, Period.year(_year(year, clock, settings))
    )
    return [
        TraineeHoursOut(person_id=t.person_id, name=t.name, station_id=t.station_id,
                        trainee_class=t.trainee_class, hours=t.hours, required_hours=t.required_hours,
                        short_by=t.short_by)
        for t in found
        if t.short_by > 0 or not short_only
    ]  # fmt: skip


@router.get("/stats/training", response_model=TrainingStatsOut,
            summary="Training of a station or a region in a year, with the level below")  # fmt: skip
async def training_stats(
    session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep,
    region_id: RegionQuery = None, station_id: StationQuery = None, year: YearQuery = None,
) -> TrainingStatsOut:  # fmt: skip
    scope = await resolve_scope(session, principal, region_id=region_id, station_id=station_id)
    year = _year(year, clock, settings)
    period = Period.year(year)
    rows = [await training_figures(session, settings, part, period) for part in await parts(session, scope)]
    return TrainingStatsOut(
        year=year, rows=rows, totals=await training_figures(session, settings, scope, period)
    )
