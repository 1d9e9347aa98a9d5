"""Courses: who may organize, manage and see them; adding and listing them."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.clock import Clock
from coordinator.errors import NotFound, not_found
from coordinator.pagination import paginate
from coordinator.regions.closure import ancestors
from coordinator.regions.models import Region, RegionAncestor
from coordinator.regions.service import get_region, may_see, stations_below
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.training.classes import check_classes
from coordinator.training.hours import courses_held
from coordinator.training.models import Course
from coordinator.training.schemas import CourseCreate
from coordinator.training.scope import Period, Scope, regions_below


def course_path(course_id: int) -> str:
    """The volunteer's page of a course, where a phone shows it and its invitation is answered."""
    return f"/web/m/courses/{course_id}"


def course_url(settings: Settings, course_id: int) -> str:
    """The course's page in full: the link of the course notices."""
    return f"{settings.public_base_url.rstrip('/')}{course_path(course_id)}"


def course_not_found(course_id: int) -> NotFound:
    return not_found("培训班", "course", course_id)


async def organizer_name(session: AsyncSession, course: Course) -> str:
    """The name of the region or station that organizes ``course``."""
    organizer = (
        await session.get(Region, course.region_id)
        if course.region_id is not None
        else await session.get(Station, course.station_id)
    )
    return organizer.name if organizer else ""


async def organizer_stations(session: AsyncSession, course: Course) -> frozenset[int]:
    """The stations whose people the course takes: the organizing station, or every one below
    the organizing region."""
    if course.station_id is not None:
        return frozenset({course.station_id})
    assert course.region_id is not None
    return await stations_below(session, course.region_id)


async def may_manage(session: AsyncSession, principal: Principal, course: Course) -> bool:
    """The organizer's staff: of the organizing region or a region above it, or of the station."""
    if principal.role not in STAFF_ROLES:
        return False
    if course.region_id is not None:
        return may_see(principal, await ancestors(session, course.region_id))
    assert course.station_id is not None
    return principal.can_access(course.station_id)


async def get_course(
    session: AsyncSession, principal: Principal, course_id: int, *, manage: bool, for_update: bool = False
) -> Course:
    """A course the caller may manage (``manage``) or see; any other id answers 404.

    ``for_update`` locks the course row: enrolments take it before a session's role and people."""
    stmt = select(Course).where(Course.id == course_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    course = await session.scalar(stmt)
    if course is None:
        raise course_not_found(course_id)
    if await may_manage(session, principal, course):
        return course
    if not manage and await session.scalar(
        select(Course.id).where(Course.id == course_id, _visible(principal))
    ):
        return course
    raise course_not_found(course_id)


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Courses a caller sees: those they manage, and those open to people of their stations (a
    course of their station, or of a region above one of their stations)."""
    stations = sorted(principal.station_ids)
    regions_above_stations = (
        select(RegionAncestor.ancestor_id)
        .join(Station, Station.region_id == RegionAncestor.region_id)
        .where(Station.id.in_(stations))
    )
    clauses = [Course.station_id.in_(stations), Course.region_id.in_(regions_above_stations)]
    if principal.region_id is not None and principal.role in STAFF_ROLES:
        clauses.append(Course.region_id.in_(regions_below(principal.region_id)))
    return or_(*clauses)


async def create_course(
    *, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal, data: CourseCreate
) -> Course:
    principal.require_staff()
    if data.region_id is not None:
        # Staff of the region or of one above it; station staff see no region (404).
        await get_region(session=session, principal=principal, region_id=data.region_id)
    else:
        assert data.station_id is not None
        if await session.get(Station, data.station_id) is None or not principal.can_access(data.station_id):
            raise not_found("服务站", "station", data.station_id)
    course = Course(
        **data.model_dump(exclude={"target_classes"}),
        target_classes=check_classes(settings, data.target_classes, field="target_classes"),
        enrolled_count=0,
        created_by=principal.user_id,
        created_at=clock.now(),
    )
    session.add(course)
    await session.flush()
    return course


async def list_courses(
    *, session: AsyncSession, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[Course], str | None]:
    stmt = select(Course)
    if not principal.is_admin:
        stmt = stmt.where(_visible(principal))
    return await paginate(session, stmt, keys=[Course.id], limit=limit, cursor=cursor)


def organized_in(scope: Scope) -> ColumnElement[bool]:
    """Courses organized by a station of ``scope``, or by its region or a region below it."""
    organized: ColumnElement[bool] = Course.station_id.in_(sorted(scope.station_ids))
    if scope.region_id is not None:
        organized = or_(organized, Course.region_id.in_(regions_below(scope.region_id)))
    return organized


async def courses_of_period(session: AsyncSession, scope: Scope, period: Period, zone: str) -> list[Course]:
    """Courses organized in ``scope`` with a session in ``period``, or added in it (none held yet)."""
    start, end = period.bounds(zone)
    added = and_(Course.created_at >= start, Course.created_at < end)
    found = await session.scalars(
        select(Course)
        .where(organized_in(scope), or_(Course.id.in_(courses_held(start, end)), added))
        .order_by(Course.id)
    )
    return list(found)
