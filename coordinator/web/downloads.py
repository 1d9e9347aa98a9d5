"""Files the pages link to, behind the page session: the monthly report, the statistics export and
the volunteer's issued certificates. The same builders as the API's bearer-token routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from coordinator.attachments import attachment
from coordinator.certificates import register
from coordinator.certificates.api import pdf_response
from coordinator.deps import ReadsDep, SessionDep
from coordinator.fields import Id, parse_day
from coordinator.stats import exports, monthly_report
from coordinator.stats.service import participation, select_scope
from coordinator.web.context import StaffDep, VolunteerDep, clock_of, settings_of
from coordinator.web.scope import pick_station

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/web/reports/monthly.xlsx")
async def monthly_xlsx(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    reads: ReadsDep,
    month: str,
    station: Id | None = None,
    region: Id | None = None,
) -> Response:
    """One station's report, or (``region``) of every station below a region together."""
    station_id = None if region is not None else (await pick_station(session, viewer, station)).id
    report = await reads.run(session, lambda on: monthly_report.build_report(
        on, viewer.principal, clock_of(request), settings_of(request), station_id=station_id,
        region_id=region, month=month
    ))  # fmt: skip
    content = monthly_report.render(report, await exports.Names.load(session))
    return attachment(
        content,
        XLSX,
        filename=f"月度报表_{report.code}_{month}.xlsx",
        fallback=f"monthly-report-{report.key}-{month}.xlsx",
    )


@router.get("/web/stats/export.xlsx")
async def export_xlsx(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    reads: ReadsDep,
    station: Id | None = None,
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
) -> Response:
    current = await pick_station(session, viewer, station)
    selection = await select_scope(
        session,
        viewer.principal,
        clock_of(request),
        station_id=current.id,
        first=parse_day(from_, field="from"),
        last=parse_day(to, field="to"),
        group_by=["month", "theme"],
    )
    answer = await reads.run(session, lambda on: participation(on, selection))
    content = exports.participation_xlsx(
        answer, await exports.Names.load(session), first=selection.first, last=selection.last
    )
    return attachment(
        content,
        XLSX,
        filename=f"参与统计_{selection.first}_{selection.last}.xlsx",
        fallback=f"participation-{selection.first}-{selection.last}.xlsx",
    )


@router.get("/web/m/certificates/{certificate_id}.pdf")
async def certificate(
    request: Request, certificate_id: Id, viewer: VolunteerDep, session: SessionDep
) -> Response:
    found = await register.get_certificate(session, viewer.principal, certificate_id)
    return await pdf_response(session, settings_of(request), found)
