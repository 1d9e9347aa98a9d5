"""Supervision figures of a station or a region for a year: visits, findings by state, and the
cases shared at exchange sessions and case showcases held at its stations."""

from __future__ import annotations

from datetime import date

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.events.models import Event
from coordinator.supervision.models import FindingStatus, SharedCases, SupervisionFinding, SupervisionVisit
from coordinator.supervision.schemas import SupervisionFigures
from coordinator.supervision.service import SHARING_THEMES
from coordinator.training.hours import events_in
from coordinator.training.scope import Scope, year_bounds


async def supervision_figures(
    session: AsyncSession, scope: Scope, year: int, *, today: date, zone: str
) -> SupervisionFigures:
    stations = sorted(scope.station_ids)
    in_scope = (
        SupervisionVisit.station_id.in_(stations),
        SupervisionVisit.visited_on >= date(year, 1, 1),
        SupervisionVisit.visited_on < date(year + 1, 1, 1),
    )
    visits, stations_visited = (
        await session.execute(
            select(func.count(), func.count(distinct(SupervisionVisit.station_id))).where(*in_scope)
        )
    ).one()
    by_status = dict(
        (
            await session.execute(
                select(SupervisionFinding.status, func.count())
                .join(SupervisionVisit, SupervisionVisit.id == SupervisionFinding.visit_id)
                .where(*in_scope)
                .group_by(SupervisionFinding.status)
            )
        ).all()
    )
    overdue = await session.scalar(
        select(func.count())
        .select_from(SupervisionFinding)
        .join(SupervisionVisit, SupervisionVisit.id == SupervisionFinding.visit_id)
        .where(*in_scope, SupervisionFinding.status == FindingStatus.open, SupervisionFinding.due_on < today)
    )
    start, end = year_bounds(year, zone)
    sharing, cases = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(SharedCases.cases), 0))
            .select_from(Event)
            .outerjoin(SharedCases, SharedCases.event_id == Event.id)
            .where(Event.station_id.in_(stations), Event.theme.in_(SHARING_THEMES), events_in(start, end))
        )
    ).one()
    return SupervisionFigures(
        region_id=scope.region_id,
        station_id=scope.station_id,
        name=scope.name,
        visits=visits,
        stations_visited=stations_visited,
        items_met=by_status.get(FindingStatus.met, 0),
        findings_open=by_status.get(FindingStatus.open, 0),
        findings_overdue=overdue or 0,
        findings_closed=by_status.get(FindingStatus.closed, 0),
        sharing_events=sharing,
        shared_cases=cases,
    )
