"""Demo training and supervision around the Kaili stations (by station code): two courses with
held sessions and their attendance, a pending application, a supervision visit with open and
closed follow-ups, and a case showcase with its shared cases. History only: no domain events."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import Attendance, AttendanceMethod, AttendanceStatus
from coordinator.clock import Clock
from coordinator.events.models import (
    LIVE_SIGNUP_STATUSES,
    Event,
    EventRole,
    EventStatus,
    Signup,
    SignupSource,
    SignupStatus,
)
from coordinator.people.models import Person
from coordinator.regions.models import Region, RegionAncestor, RegionLevel
from coordinator.stations.models import Station
from coordinator.supervision.models import FindingStatus, SharedCases, SupervisionFinding, SupervisionVisit
from coordinator.training.models import Course, CourseSession, Enrolment, EnrolmentSource, EnrolmentStatus

ZONE = ZoneInfo("Asia/Shanghai")
TRAINEE_ROLE = "学员"


@dataclass(frozen=True)
class DemoCourse:
    topic: str
    host: str  # station code where the sessions are held (and the organizer, when it has no county)
    by_county: bool  # organized by the county above ``host`` once the stations sit in regions
    target_classes: tuple[str, ...]
    trainers: tuple[str, ...]
    trainees: int
    sessions: tuple[tuple[int, str, bool], ...]  # (days ago, title, online)


COURSES = (
    DemoCourse(
        topic="儿童福利社会工作能力提升班",
        host="kl-yingpanpo",
        by_county=True,
        target_classes=("township_station_lead", "social_worker"),
        trainers=("李老师（贵州民族大学）", "吴督导"),
        trainees=12,
        sessions=((45, "第一讲：困境儿童保障政策", False), (38, "第二讲：个案工作方法", False),
                  (31, "第三讲：实务督导与案例研讨", False)),
    ),
    DemoCourse(
        topic="社会工作者职业水平考试辅导班",
        host="kl-shaoshan",
        by_county=False,
        target_classes=("social_worker",),
        trainers=("杨老师",),
        trainees=6,
        sessions=((20, "社会工作综合能力", True), (13, "社会工作实务", False)),
    ),
)  # fmt: skip


async def load_training_demo(session: AsyncSession, clock: Clock) -> Counter[str]:
    """Add the demo courses, visit and showcase unless they are there (the caller commits)."""
    counts: Counter[str] = Counter()
    stations = {s.code: s for s in await session.scalars(select(Station))}
    if any(code not in stations for code in ("kl-yingpanpo", "kl-shaoshan", "kl-nanhua")):
        return counts
    if await session.scalar(select(Course.id).where(Course.topic == COURSES[0].topic)) is not None:
        return counts
    now = clock.now()
    for course in COURSES:
        await _course(session, now, course, stations[course.host], counts)
    await _visit(session, now, stations["kl-nanhua"], counts)
    await _showcase(session, now, stations["kl-yingpanpo"], counts)
    return counts


async def _county_above(session: AsyncSession, station: Station) -> int | None:
    if station.region_id is None:
        return None
    return await session.scalar(
        select(Region.id)
        .join(RegionAncestor, RegionAncestor.ancestor_id == Region.id)
        .where(RegionAncestor.region_id == station.region_id, Region.level == RegionLevel.county)
    )


async def _trainees(
    session: AsyncSession,
    station: Station,
    region_id: int | None,
    n: int,
    sessions: list[tuple[datetime, datetime]],
) -> list[Person]:
    """Social workers first, then other volunteers, of the host station (or of the county's
    stations): ``n`` of those free at every session and within their monthly maximum."""
    stmt = select(Person).where(Person.is_active.is_(True))
    if region_id is None:
        stmt = stmt.where(Person.station_id == station.id)
    else:
        stmt = (
            stmt.join(Station, Station.id == Person.station_id)
            .join(RegionAncestor, RegionAncestor.region_id == Station.region_id)
            .where(RegionAncestor.ancestor_id == region_id)
        )
    candidates = list(await session.scalars(stmt.order_by(Person.is_social_worker.desc(), Person.id)))
    booked: defaultdict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = await session.execute(
        select(Signup.person_id, Event.starts_at, Event.ends_at)
        .join(Event, Event.id == Signup.event_id)
        .where(Signup.status.in_(LIVE_SIGNUP_STATUSES), Signup.person_id.in_([p.id for p in candidates]))
    )
    for person_id, starts_at, ends_at in rows:
        booked[person_id].append((starts_at, ends_at))
    return [p for p in candidates if _free(p, booked[p.id], sessions)][:n]


def _free(
    person: Person, booked: list[tuple[datetime, datetime]], sessions: list[tuple[datetime, datetime]]
) -> bool:
    if any(start < end_b and start_b < end for start, end in sessions for start_b, end_b in booked):
        return False
    months = Counter(_month(start) for start, _ in [*booked, *sessions])
    return person.max_events_per_month is None or max(months.values()) <= person.max_events_per_month


def _month(instant: datetime) -> str:
    return f"{instant.astimezone(ZONE):%Y-%m}"


async def _course(
    session: AsyncSession, now: datetime, demo: DemoCourse, station: Station, counts: Counter[str]
) -> None:
    region_id = await _county_above(session, station) if demo.by_county else None
    course = Course(
        topic=demo.topic, region_id=region_id, station_id=None if region_id else station.id,
        target_classes=list(demo.target_classes), trainers=list(demo.trainers), capacity=30,
        enrolled_count=0, created_at=now - timedelta(days=60),
    )  # fmt: skip
    session.add(course)
    await session.flush()
    times = [_times(now, days_ago) for days_ago, _, _ in demo.sessions]
    people = await _trainees(session, station, region_id, demo.trainees + 1, times)
    enrolled, applicant = people[: demo.trainees], people[demo.trainees :]
    for i, person in enumerate(enrolled):
        cls = demo.target_classes[-1] if person.is_social_worker or i % 3 else demo.target_classes[0]
        session.add(_enrolment(course, person, cls, EnrolmentStatus.enrolled, now))
    for person in applicant:  # waits for the organizer's approval
        session.add(_enrolment(course, person, demo.target_classes[-1], EnrolmentStatus.applied, now))
    course.enrolled_count = len(enrolled)
    counts["enrolments"] += len(people)
    counts["courses"] += 1
    for j, (days_ago, title, online) in enumerate(demo.sessions):
        event = await _held_event(session, now, station, "training", title, days_ago, len(enrolled), counts)
        event.location = "https://meeting.tencent.com/demo" if online else f"{station.name}会议室"
        session.add(CourseSession(course_id=course.id, event_id=event.id, online=online))
        role = await session.scalar(select(EventRole).where(EventRole.event_id == event.id))
        assert role is not None
        for i, person in enumerate(enrolled):
            present = (i + j) % 5 != 0  # about one in five misses a session
            session.add(_signup(event, role, person))
            session.add(_attendance(event, person, present))
        role.confirmed_count = len(enrolled)
        counts["attendance"] += len(enrolled)
    await session.flush()


def _enrolment(course: Course, person: Person, cls: str, status: EnrolmentStatus, now: datetime) -> Enrolment:
    return Enrolment(
        course_id=course.id,
        person_id=person.id,
        trainee_class=cls,
        status=status,
        source=EnrolmentSource.application
        if status is EnrolmentStatus.applied
        else EnrolmentSource.invitation,
        created_at=now - timedelta(days=55),
        decided_at=None if status is EnrolmentStatus.applied else now - timedelta(days=50),
    )


async def _held_event(
    session: AsyncSession, now: datetime, station: Station, theme: str, title: str, days_ago: int,
    places: int, counts: Counter[str],
) -> Event:  # fmt: skip
    """A completed half-day event ``days_ago`` with one role of ``places``."""
    starts, _ = _times(now, days_ago)
    event = Event(
        station_id=station.id,
        theme=theme,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=places,
        status=EventStatus.completed,
        reminder_offsets=["P1D"],
        target_categories=[],
        sequence=0,
        detached=False,
        created_at=starts - timedelta(days=14),
        updated_at=starts + timedelta(hours=3),
        published_at=starts - timedelta(days=14),
        completed_at=starts + timedelta(hours=3),
    )
    session.add(event)
    await session.flush()
    session.add(
        EventRole(
            event_id=event.id,
            position=0,
            name=TRAINEE_ROLE if theme == "training" else "案例分享人",
            count=places,
            skills=[],
            languages=[],
            party_members_only=False,
        )
    )
    await session.flush()
    counts["events"] += 1
    return event


def _times(now: datetime, days_ago: int) -> tuple[datetime, datetime]:
    """09:00–12:00 local, ``days_ago``."""
    starts = datetime.combine(now.astimezone(ZONE).date() - timedelta(days=days_ago), time(9), ZONE)
    return starts, starts + timedelta(hours=3)


def _signup(event: Event, role: EventRole, person: Person) -> Signup:
    return Signup(
        event_id=event.id, role_id=role.id, person_id=person.id, status=SignupStatus.confirmed,
        source=SignupSource.organizer, created_at=event.created_at, updated_at=event.created_at,
        confirmed_at=event.created_at,
    )  # fmt: skip


def _attendance(event: Event, person: Person, present: bool) -> Attendance:
    return Attendance(
        event_id=event.id,
        person_id=person.id,
        station_id=event.station_id,
        status=AttendanceStatus.present if present else AttendanceStatus.absent,
        method=AttendanceMethod.roster,
        checked_in_at=event.starts_at if present else None,
        checked_out_at=event.ends_at if present else None,
        minutes=180 if present else 0,
        approved=True,
        created_at=event.ends_at,
        updated_at=event.ends_at,
    )


async def _visit(session: AsyncSession, now: datetime, station: Station, counts: Counter[str]) -> None:
    today = now.astimezone(ZONE).date()
    visit = SupervisionVisit(
        station_id=station.id, visited_on=today - timedelta(days=16), supervisor="马督导（凯里市民政局）",
        notes="片区督导：台账和活动开展情况良好，档案需补齐。", created_at=now - timedelta(days=16),
    )  # fmt: skip
    session.add(visit)
    await session.flush()
    due: date = today + timedelta(days=14)
    session.add_all([
        SupervisionFinding(visit_id=visit.id, item="ledger_kept", status=FindingStatus.met),
        SupervisionFinding(visit_id=visit.id, item="activities_held", status=FindingStatus.met),
        SupervisionFinding(visit_id=visit.id, item="records_complete", status=FindingStatus.open,
                           note="10月两次活动缺签到表", follow_up="补齐签到表并归档", due_on=due),
        SupervisionFinding(visit_id=visit.id, item="signage_displayed", status=FindingStatus.closed,
                           note="门牌缺失", follow_up="补挂站点标识", due_on=today - timedelta(days=6),
                           closed_at=now - timedelta(days=8), closing_note="已补挂"),
    ])  # fmt: skip
    counts["supervision_visits"] += 1
    counts["supervision_findings"] += 4


async def _showcase(session: AsyncSession, now: datetime, station: Station, counts: Counter[str]) -> None:
    event = await _held_event(session, now, station, "case_showcase", "凯里市优秀社工案例展示", 10, 6, counts)
    event.location = "凯里市社会工作服务中心"
    session.add(SharedCases(event_id=event.id, station_id=station.id, cases=12, updated_at=event.ends_at))
    counts["event_shared_cases"] += 1
