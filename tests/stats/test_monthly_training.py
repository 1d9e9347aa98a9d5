"""The monthly report's sheet 培训与督导: the month's training and supervision and the year to its
end, for a station and for a region, read back with openpyxl."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import AttendanceStatus
from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.supervision.models import FindingStatus, SupervisionFinding, SupervisionVisit
from coordinator.training.models import Course, CourseSession, Enrolment, EnrolmentSource, EnrolmentStatus
from tests.factories import create_event, create_person
from tests.regions import make_province, region_staff
from tests.stats.history import write_attendance
from tests.world import Headers, World

SHEET = "培训与督导"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A station lead's requirement met by one session, a social worker's far from it."""
    return settings.model_copy(update={"training_required_hours_by_class": {"township_station_lead": 3.0}})


async def _course(session: AsyncSession, clock: Clock, station: Station) -> None:
    """A station's course with sessions on 20 October, 10 November and 5 December (three hours
    each): the worker attends the first two, the station lead the first only."""
    now = clock.now()  # Sunday 29 November, 10:00 in Kaili
    course = Course(topic="社工能力提升班", description=None, region_id=None, station_id=station.id,
                    target_classes=["social_worker", "township_station_lead"], trainers=[], capacity=10,
                    enrolled_count=2, created_at=now)  # fmt: skip
    session.add(course)
    await session.flush()
    held = []
    for days in (-40, -19, 6):
        event = await create_event(session, clock, station, theme="training", starts_in=timedelta(days=days),
                                   duration=timedelta(hours=3))  # fmt: skip
        session.add(CourseSession(course_id=course.id, event_id=event.id, online=False))
        held.append(event)
    worker = await create_person(session, clock, station)
    lead = await create_person(session, clock, station)
    for person, cls in ((worker, "social_worker"), (lead, "township_station_lead")):
        session.add(Enrolment(course_id=course.id, person_id=person.id, trainee_class=cls,
                              source=EnrolmentSource.invitation, status=EnrolmentStatus.enrolled,
                              created_at=now, decided_at=now))  # fmt: skip
    await session.flush()
    for event, person in ((held[0], worker), (held[0], lead), (held[1], worker)):
        await write_attendance(session, clock, event, person.id, status=AttendanceStatus.present, minutes=180)


async def _visit(
    session: AsyncSession, clock: Clock, station: Station, day: date, *findings: tuple[str, datetime | None]
) -> None:
    """A supervision visit with a finding in order and, for each of ``findings``, one not in order
    (closed at the given instant, or still open)."""
    visit = SupervisionVisit(station_id=station.id, visited_on=day, supervisor="马督导", notes=None,
                             recorded_by=None, created_at=clock.now())  # fmt: skip
    session.add(visit)
    await session.flush()
    session.add(SupervisionFinding(visit_id=visit.id, item="ledger_kept", status=FindingStatus.met))
    for item, closed_at in findings:
        status = FindingStatus.open if closed_at is None else FindingStatus.closed
        session.add(SupervisionFinding(visit_id=visit.id, item=item, status=status, follow_up="整改",
                                       due_on=day + timedelta(days=14), closed_at=closed_at))  # fmt: skip
    await session.flush()


async def _history(world: World) -> None:
    async with transaction(world.sessionmaker) as session:
        clock, station = world.clock, world.station
        await _course(session, clock, station)
        closed_in_october = datetime(2026, 10, 20, 2, tzinfo=UTC)
        closed_in_november = datetime(2026, 11, 20, 2, tzinfo=UTC)
        await _visit(session, clock, station, date(2025, 12, 10),
                     ("records_complete", None), ("activities_held", closed_in_october))  # fmt: skip
        await _visit(session, clock, station, date(2026, 10, 15),
                     ("records_complete", closed_in_november), ("activities_held", None))  # fmt: skip
        await _visit(session, clock, station, date(2026, 11, 5), ("activities_held", None))
        await _visit(session, clock, world.other, date(2026, 11, 6), ("records_complete", None))


async def _sheet(client: httpx.AsyncClient, headers: Headers, **params: Any) -> dict[str, list[Any]]:
    response = await client.get("/api/v1/reports/monthly.xlsx", params=params, headers=headers)
    assert response.status_code == 200, response.text
    rows = list(load_workbook(io.BytesIO(response.content))[SHEET].iter_rows(values_only=True))
    assert rows[1] == ("项目", "本月", f"本年累计（1—{int(params['month'][-2:])}月）")
    return {row[0]: list(row[1:]) for row in rows[2:]}


async def test_the_station_report_counts_the_month_and_the_year_to_its_end(
    client: httpx.AsyncClient, world: World
) -> None:
    await _history(world)
    station = world.station.id

    november = await _sheet(client, world.head, station_id=station, month="2026-11")
    october = await _sheet(client, world.head, station_id=station, month="2026-10")

    assert november == {
        "培训班（期）": [1, 1],
        "培训场次": [1, 2],  # the December session is not in the year to November's end
        "参训学员（人）": [2, 2],
        "其中：乡镇（街道）社工站负责人（人）": [1, 1],
        "其中：一线社会工作者（人）": [1, 1],
        "参训人次": [1, 3],
        "培训学时（小时）": [3.0, 9.0],
        "未达年度学时要求（人）": [None, 1],  # the lead's one session meets their requirement
        "督导走访（次）": [1, 2],  # December 2025's visit is another year's
        "发现问题（项）": [1, 3],
        "完成整改（项）": [1, 2],  # one closed in October
        "月末未整改（项）": [3, 3],  # one of last year's is still open
    }
    assert [october[k] for k in ("培训场次", "参训人次", "培训学时（小时）")] == [[1, 1], [2, 2], [6.0, 6.0]]
    assert (october["督导走访（次）"], october["发现问题（项）"]) == ([1, 1], [2, 2])
    # The one closed on 20 November was open at the end of October.
    assert (october["完成整改（项）"], october["月末未整改（项）"]) == ([1, 1], [3, 3])


async def test_the_region_report_counts_every_station_below(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    await _history(world)

    city = await _sheet(client, await region_staff(world, province.city), month="2026-11")
    other_county = await _sheet(
        client, await region_staff(world, province.other_county), region_id=province.other_county.id,
        month="2026-11",
    )  # fmt: skip

    assert city["培训场次"] == [1, 2]  # the station's course counts at every level above it
    assert city["参训人次"] == [1, 3]
    assert (city["督导走访（次）"], city["发现问题（项）"]) == ([2, 3], [2, 4])
    assert city["月末未整改（项）"] == [4, 4]
    assert (other_county["培训场次"], other_county["督导走访（次）"]) == ([0, 0], [1, 1])
    assert other_county["月末未整改（项）"] == [1, 1]
