"""The demo's training and supervision: two courses with held sessions and attendance, a visit
with open and closed follow-ups, a showcase's shared cases; loaded once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.demo.loader import load_demo
from coordinator.regions.models import Region, RegionLevel
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.supervision.stats import supervision_figures
from coordinator.training.models import Course, Enrolment, EnrolmentStatus
from coordinator.training.scope import Period, Scope, region_scope
from coordinator.training.stats import training_figures

Maker = async_sessionmaker[AsyncSession]


async def test_demo_holds_two_courses_and_a_supervision_visit(sessionmaker: Maker, clock: FixedClock) -> None:
    for _ in range(2):  # the second run changes nothing
        async with sessionmaker() as session, session.begin():
            await load_demo(session, clock, seed=7)

    async with sessionmaker() as session:
        stations = {code: sid for code, sid in await session.execute(select(Station.code, Station.id))}
        province = await session.scalar(select(Region).where(Region.level == RegionLevel.province))
        assert province is not None  # the demo province: its county organizes the first course
        everywhere = await region_scope(session, province)
        year = Period.year(clock.now().year)
        training = await training_figures(session, Settings(), everywhere, year)
        nanhua = Scope(frozenset({stations["kl-nanhua"]}), station_id=stations["kl-nanhua"])
        supervision = await supervision_figures(
            session, nanhua, year, today=clock.now().date(), zone="Asia/Shanghai"
        )
        yingpanpo = Scope(frozenset({stations["kl-yingpanpo"]}), station_id=stations["kl-yingpanpo"])
        showcase = await supervision_figures(
            session, yingpanpo, year, today=clock.now().date(), zone="Asia/Shanghai"
        )
        applied = await session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.status == EnrolmentStatus.applied)
        )
        courses = await session.scalar(select(func.count()).select_from(Course))
        enrolled = await session.scalar(
            select(func.count(func.distinct(Enrolment.person_id))).where(
                Enrolment.status == EnrolmentStatus.enrolled
            )
        )

    assert (courses, applied) == (2, 2)
    # 12 + 6 enrolments; a county social worker may sit in both courses and counts once.
    assert (training.courses, training.sessions, training.trainees) == (2, 5, enrolled)
    assert 12 <= training.trainees <= 18
    assert 0 < training.person_times < 12 * 3 + 6 * 2  # about one in five missed a session
    assert training.hours == training.person_times * 3
    assert training.short_of_requirement > 0
    findings = (supervision.items_met, supervision.findings_open, supervision.findings_closed)
    assert (supervision.visits, findings) == (1, (2, 1, 1))
    assert (showcase.sharing_events, showcase.shared_cases) == (1, 12)
