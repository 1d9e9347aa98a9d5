"""Training and supervision at a glance, for a station or a region: the year's figures with the
level below, the year's courses (each leading to its page), and the follow-ups still open."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.deps import SessionDep
from coordinator.fields import Id
from coordinator.stations.models import Station
from coordinator.stats.periods import local_date
from coordinator.supervision.checklist import item_label
from coordinator.supervision.models import FindingStatus, SupervisionFinding, SupervisionVisit
from coordinator.supervision.stats import supervision_figures
from coordinator.training.courses import courses_of_period
from coordinator.training.scope import Period, Scope, parts, resolve_scope
from coordinator.training.stats import training_figures
from coordinator.web.context import StaffDep, clock_of, render, settings_of
from coordinator.web.scope import pick_station, stations_of

router = APIRouter(include_in_schema=False)


@router.get("/web/training", response_class=HTMLResponse)
async def training_page(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    station: Id | None = None,
    region: Id | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> HTMLResponse:
    settings, clock = settings_of(request), clock_of(request)
    zone = settings.default_timezone
    today = local_date(clock.now(), zone)
    year = year if year is not None else today.year
    # Region staff start from their region, everyone else from a station of theirs.
    region = region if region is not None or station is not None else viewer.principal.region_id
    current = None if region is not None else await pick_station(session, viewer, station)
    scope = await resolve_scope(
        session, viewer.principal, region_id=region, station_id=current.id if current else None
    )
    below = await parts(session, scope)
    period = Period.year(year)
    return render(
        request,
        "training.html",
        viewer,
        station=current,
        stations=await stations_of(session, viewer),
        region=region,
        scope=scope,
        year=year,
        training=await training_figures(session, settings, scope, period),
        training_rows=[await training_figures(session, settings, part, period) for part in below],
        courses=await courses_of_period(session, scope, period, zone),
        supervision=await supervision_figures(session, scope, period, today=today, zone=zone),
        supervision_rows=[
            await supervision_figures(session, part, period, today=today, zone=zone) for part in below
        ],
        open_findings=await _open_findings(session, scope),
        today=today,
    )


async def _open_findings(session: AsyncSession, scope: Scope) -> list[tuple[str, str, str, date | None]]:
    """(station, item, follow-up, due date) of the open findings, soonest due first."""
    rows = await session.execute(
        select(Station.name, SupervisionFinding.item, SupervisionFinding.follow_up, SupervisionFinding.due_on)
        .join(SupervisionVisit, SupervisionVisit.id == SupervisionFinding.visit_id)
        .join(Station, Station.id == SupervisionVisit.station_id)
        .where(
            SupervisionFinding.status == FindingStatus.open,
            SupervisionVisit.station_id.in_(sorted(scope.station_ids)),
        )
        .order_by(SupervisionFinding.due_on, SupervisionFinding.id)
    )
    return [(name, item_label(item), follow_up or "", due) for name, item, follow_up, due in rows]
