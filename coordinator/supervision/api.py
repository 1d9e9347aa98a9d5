"""Routes of supervision: visits, closing findings, shared cases, and statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.stats.periods import local_date
from coordinator.supervision import service
from coordinator.supervision.checklist import item_label
from coordinator.supervision.models import SupervisionFinding, SupervisionVisit
from coordinator.supervision.schemas import (
    FindingClose,
    FindingOut,
    SharedCasesIn,
    SharedCasesOut,
    SupervisionStatsOut,
    VisitCreate,
    VisitOut,
)
from coordinator.supervision.stats import supervision_figures
from coordinator.training.scope import Period, RegionQuery, StationQuery, YearQuery, parts, resolve_scope

router = APIRouter(tags=["supervision"], responses=ERROR_RESPONSES)


def _finding_out(finding: SupervisionFinding) -> FindingOut:
    out = FindingOut.model_validate(finding)
    out.label = item_label(finding.item)
    return out


def _visit_out(visit: SupervisionVisit, findings: list[SupervisionFinding]) -> VisitOut:
    return VisitOut(
        id=visit.id, station_id=visit.station_id, visited_on=visit.visited_on, supervisor=visit.supervisor,
        notes=visit.notes, created_at=visit.created_at,
        findings=[_finding_out(f) for f in findings if f.visit_id == visit.id],
    )  # fmt: skip


@router.post("/supervision/visits", status_code=status.HTTP_201_CREATED, response_model=VisitOut,
             summary="Record a supervision visit to a station (staff of a region above it)")  # fmt: skip
async def record_visit(
    data: VisitCreate, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep
) -> VisitOut:
    visit, findings = await service.record_visit(
        session=session, clock=clock, settings=settings, principal=principal, data=data
    )
    return _visit_out(visit, findings)


@router.get("/supervision/visits", response_model=Page[VisitOut], summary="Visits to your stations")
async def list_visits(
    session: SessionDep,
    principal: PrincipalDep,
    station_id: Annotated[Id | None, Query(description="Only visits to this station")] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[VisitOut]:
    visits, next_cursor = await service.list_visits(
        session=session, principal=principal, station_id=station_id, limit=limit, cursor=cursor
    )
    findings = await service.findings_of(session, [v.id for v in visits])
    return Page(items=[_visit_out(v, findings) for v in visits], next_cursor=next_cursor)


@router.get("/supervision/visits/{visit_id}", response_model=VisitOut, summary="One visit and its findings")
async def get_visit(visit_id: Id, session: SessionDep, principal: PrincipalDep) -> VisitOut:
    visit, findings = await service.get_visit(session=session, principal=principal, visit_id=visit_id)
    return _visit_out(visit, findings)


@router.post("/supervision/findings/{finding_id}/close", response_model=FindingOut,
             summary="Close a finding whose follow-up is done")  # fmt: skip
async def close_finding(
    finding_id: Id, data: FindingClose, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> FindingOut:
    finding = await service.close_finding(
        session=session, clock=clock, principal=principal, finding_id=finding_id, note=data.note
    )
    return _finding_out(finding)


@router.put("/events/{event_id}/shared-cases", response_model=SharedCasesOut,
            summary="Cases shared at an exchange session or a case showcase")  # fmt: skip
async def set_shared_cases(
    event_id: Id, data: SharedCasesIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> SharedCasesOut:
    row = await service.set_shared_cases(
        session=session, clock=clock, principal=principal, event_id=event_id, data=data
    )
    return SharedCasesOut(event_id=row.event_id, cases=row.cases)


@router.get("/stats/supervision", response_model=SupervisionStatsOut,
            summary="Supervision of a station or a region in a year, with the level below")  # fmt: skip
async def supervision_stats(
    session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep,
    region_id: RegionQuery = None,
    station_id: StationQuery = None,
    year: YearQuery = None,
) -> SupervisionStatsOut:  # fmt: skip
    scope = await resolve_scope(session, principal, region_id=region_id, station_id=station_id)
    zone = settings.default_timezone
    today = local_date(clock.now(), zone)
    year = year if year is not None else today.year
    period = Period.year(year)
    rows = [
        await supervision_figures(session, part, period, today=today, zone=zone)
        for part in await parts(session, scope)
    ]
    totals = await supervision_figures(session, scope, period, today=today, zone=zone)
    return SupervisionStatsOut(year=year, rows=rows, totals=totals)
