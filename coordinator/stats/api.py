"""Routes of statistics, exports, the monthly report and a person's hours."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from coordinator.attachments import attachment
from coordinator.deps import ClockDep, PrincipalDep, ReadsDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Day, Id, Line
from coordinator.regions.models import RegionLevel
from coordinator.stats import coverage as coverage_service
from coordinator.stats import exports, monthly_report
from coordinator.stats.figures import Participation
from coordinator.stats.periods import zone
from coordinator.stats.person_stats import person_record
from coordinator.stats.schemas import (
    ActivityOut,
    CategoryCoverageOut,
    CoverageOut,
    FiguresOut,
    MonthHoursOut,
    ParticipationOut,
    ParticipationRow,
    PersonStatsOut,
    UnvisitedResidentOut,
)
from coordinator.stats.service import Selection, participation, select_scope
from coordinator.visits.coverage import visit_coverage
from coordinator.visits.schemas import CategoryVisitsOut, VisitCoverageOut

router = APIRouter(tags=["stats"], responses=ERROR_RESPONSES)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
StationQuery = Annotated[
    Id | None, Query(description="Only this station (admins: leave out for all stations)")
]
RegionQuery = Annotated[
    Id | None,
    Query(description="Only the stations below this region (region staff: their region by default)"),
]
LevelQuery = Annotated[
    RegionLevel | None, Query(description="group_by=region: rows by this level (default: the level below)")
]
FromQuery = Annotated[Day | None, Query(alias="from", description="First local date (default: 1 January)")]
ToQuery = Annotated[
    Day | None, Query(alias="to", description="Last local date, inclusive (default: 31 December)")
]
GroupByQuery = Annotated[
    list[Line],
    Query(
        description="station, region, theme, organization, month, week, role, party_branch "
        "(repeat or comma-separate)"
    ),
]


def _file(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {}}, "description": description}}


async def _participation(
    session: SessionDep, reads: ReadsDep, principal: PrincipalDep, clock: ClockDep, station_id: int | None,
    first: date | None, last: date | None, group_by: list[str], region_id: int | None,
    level: RegionLevel | None,
) -> tuple[Selection, Participation]:  # fmt: skip
    selection = await select_scope(session, principal, clock, station_id=station_id, first=first, last=last,
                                   group_by=group_by, region_id=region_id, level=level)  # fmt: skip
    return selection, await reads.run(session, lambda on: participation(on, selection))


@router.get("/stats/participation", response_model=ParticipationOut,
            summary="Participation by station, theme, organization, month, week, role or branch")  # fmt: skip
async def get_participation(
    session: SessionDep, reads: ReadsDep, principal: PrincipalDep, clock: ClockDep,
    station_id: StationQuery = None, first: FromQuery = None, last: ToQuery = None,
    group_by: GroupByQuery = [],  # noqa: B006
    region_id: RegionQuery = None, level: LevelQuery = None,
) -> ParticipationOut:  # fmt: skip
    """Person-times and distinct people, Party-member participation, hours, residents served and the
    no-show rate; totals are recounted (distinct counts are not sums)."""
    selection, answer = await _participation(
        session, reads, principal, clock, station_id, first, last, group_by, region_id, level
    )
    return ParticipationOut(
        group_by=list(answer.group_by),
        from_=selection.first,
        to=selection.last,
        source=answer.source,
        rows=[ParticipationRow(**row) for row in answer.row_dicts()],
        totals=FiguresOut(**answer.totals.as_dict()),
    )


@router.get("/stats/export.xlsx", summary="Participation statistics as a formatted XLSX workbook",
            response_class=Response, responses=_file(XLSX, "The workbook"))  # fmt: skip
async def export_xlsx(
    session: SessionDep, reads: ReadsDep, principal: PrincipalDep, clock: ClockDep,
    station_id: StationQuery = None, first: FromQuery = None, last: ToQuery = None,
    group_by: GroupByQuery = [],  # noqa: B006
    region_id: RegionQuery = None, level: LevelQuery = None,
) -> Response:  # fmt: skip
    selection, answer = await _participation(
        session, reads, principal, clock, station_id, first, last, group_by, region_id, level
    )
    content = exports.participation_xlsx(
        answer, await exports.Names.load(session), first=selection.first, last=selection.last
    )
    return attachment(
        content,
        XLSX,
        filename=f"参与统计_{selection.first}_{selection.last}.xlsx",
        fallback=f"participation-{selection.first}-{selection.last}.xlsx",
    )


@router.get("/stats/export.csv", summary="Participation statistics as CSV (UTF-8 with BOM)",
            response_class=Response, responses=_file("text/csv", "The rows and a totals row"))  # fmt: skip
async def export_csv(
    session: SessionDep, reads: ReadsDep, principal: PrincipalDep, clock: ClockDep,
    station_id: StationQuery = None, first: FromQuery = None, last: ToQuery = None,
    group_by: GroupByQuery = [],  # noqa: B006
    region_id: RegionQuery = None, level: LevelQuery = None,
) -> Response:  # fmt: skip
    selection, answer = await _participation(
        session, reads, principal, clock, station_id, first, last, group_by, region_id, level
    )
    content = exports.participation_csv(answer, await exports.Names.load(session))
    return attachment(
        content,
        "text/csv; charset=utf-8",
        filename=f"参与统计_{selection.first}_{selection.last}.csv",
        fallback=f"participation-{selection.first}-{selection.last}.csv",
    )


@router.get("/stats/attendance.xlsx", summary="The attendance ledger of a station for a period (XLSX)",
            response_class=Response, responses=_file(XLSX, "The ledger"))  # fmt: skip
async def attendance_ledger(
    session: SessionDep, reads: ReadsDep, principal: PrincipalDep, clock: ClockDep, station_id: Id,
    first: FromQuery = None, last: ToQuery = None,
) -> Response:  # fmt: skip
    selection = await select_scope(session, principal, clock, station_id=station_id, first=first, last=last,
                                   group_by=[])  # fmt: skip
    content = await reads.run(session, lambda on: exports.attendance_ledger_xlsx(
        on, principal, station_id=station_id, first=selection.first, last=selection.last
    ))  # fmt: skip
    return attachment(
        content,
        XLSX,
        filename=f"出勤台账_{selection.first}_{selection.last}.xlsx",
        fallback=f"attendance-station-{station_id}-{selection.first}-{selection.last}.xlsx",
    )


@router.get("/reports/monthly.xlsx",
            summary="The monthly report of a station or of a region's stations for the civil affairs bureau",
            response_class=Response, responses=_file(XLSX, "A sheet a subject, Chinese headers"))  # fmt: skip
async def monthly_xlsx(
    session: SessionDep, reads: ReadsDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"])],
    station_id: StationQuery = None, region_id: RegionQuery = None,
) -> Response:  # fmt: skip
    report = await reads.run(session, lambda on: monthly_report.build_report(
        on, principal, clock, settings, station_id=station_id, region_id=region_id, month=month
    ))  # fmt: skip
    content = monthly_report.render(report, await exports.Names.load(session))
    return attachment(
        content,
        XLSX,
        filename=f"月度报表_{report.code}_{month}.xlsx",
        fallback=f"monthly-report-{report.key}-{month}.xlsx",
    )


@router.get("/stats/people/{person_id}", response_model=PersonStatsOut,
            summary="A person's activities and hours by month (volunteers: their own)")  # fmt: skip
async def person_stats(
    person_id: Id, session: SessionDep, principal: PrincipalDep,
    first: FromQuery = None, last: ToQuery = None,
) -> PersonStatsOut:  # fmt: skip
    record = await person_record(session, principal, person_id, first=first, last=last)
    return PersonStatsOut(
        person_id=record.person.id,
        name=record.person.name,
        station_id=record.person.station_id,
        activities=len(record.activities),
        hours=round(record.minutes / 60, 2),
        by_month=[MonthHoursOut(month=m, activities=n, hours=round(minutes / 60, 2))
                  for m, n, minutes in record.by_month()],
        items=[ActivityOut(event_id=a.event_id, title=a.title, theme=a.theme, starts_at=a.starts_at,
                           status=a.status, minutes=a.minutes, hours=round(a.minutes / 60, 2))
               for a in record.activities],
    )  # fmt: skip


@router.get("/stats/coverage", response_model=CoverageOut,
            summary="Ledger residents served in the last N days by category, and who was not")  # fmt: skip
async def get_coverage(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep, station_id: Id,
    days: Annotated[int, Query(ge=1, le=3660, description="Look back this many days")] = 30,
) -> CoverageOut:  # fmt: skip
    found = await coverage_service.coverage(session, principal, clock, station_id=station_id, days=days)
    tz = found.station.timezone
    return CoverageOut(
        station_id=found.station.id, days=found.days, since=found.since.astimezone(zone(tz)),
        ledger=found.ledger, served=found.served, personal_data_masked=found.personal_data_masked,
        categories=[CategoryCoverageOut(category=c.category, label=c.label, ledger=c.ledger, served=c.served,
                                        not_served=c.ledger - c.served) for c in found.categories],
        not_visited=[UnvisitedResidentOut(id=r.id, name=r.name, categories=r.categories, phone=r.phone,
                                          address=r.address,
                                          last_served_at=r.last_served_at.astimezone(zone(tz))
                                          if r.last_served_at else None)
                     for r in found.not_visited],
    )  # fmt: skip


@router.get(
    "/stats/visit-coverage",
    response_model=VisitCoverageOut,
    summary="Home visits against the visit policies: due, visited, on time, overdue; cases, follow-ups",
)
async def get_visit_coverage(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    station_id: Annotated[Id, Query()],
    first: FromQuery = None,
    last: ToQuery = None,
) -> VisitCoverageOut:
    found = await visit_coverage(session, principal, clock, station_id=station_id, first=first, last=last)
    return VisitCoverageOut(
        station_id=found.station.id,
        first=found.first,
        last=found.last,
        categories=[CategoryVisitsOut(**asdict(c)) for c in found.categories],
        visits=found.visits,
        residents_visited=found.residents_visited,
        attempts=found.attempts,
        open_cases=found.open_cases,
        overdue_follow_ups=found.overdue_follow_ups,
    )
