"""Supervision figures of a station or a region for a period (a year, a month, a year to date):
visits, findings by state, follow-ups closed and still open at the period's end, and the cases
shared at exchange sessions and case showcases held at its stations."""

from __future__ import annotations

from datetime import date

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.events.models import Event
from coordinator.supervision.models import FindingStatus, SharedCases, SupervisionFinding, SupervisionVisit
from coordinator.supervision.schemas import SupervisionFigures
from coordinator.supervision.service import SHARING_THEMES
from coordinator.training.hours import events_in
from coordinator.training.scope import Period, Scope


async def supervision_figures(
    session: AsyncSession, scope: Scope, period: Period, *, today: date, zone: str
) -> SupervisionFigures:
    stations = sorted(scope.station_ids)
    start, end = period.bounds(zone)
    in_scope = (
        SupervisionVisit.station_id.in_(stations),
        SupervisionVisit.visited_on >= period.first,
        SupervisionVisit.visited_on <= period.last,
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
    follow_ups = (
        select(func.count())
        .select_from(SupervisionFinding)
        .join(SupervisionVisit, SupervisionVisit.id == SupervisionFinding.visit_id)
        .where(SupervisionVisit.station_id.in_(stations), SupervisionFinding.status != FindingStatus.met)
    )
    closed_in_period = await session.scalar(
        follow_ups.where(SupervisionFinding.closed_at >= start, SupervisionFinding.closed_at < end)
    )
    # Found by the period's end and not closed by then: closed later, or still open.
    open_at_end = await session.scalar(
        follow_ups.where(
            SupervisionVisit.visited_on <= period.last,
            or_(SupervisionFinding.closed_at.is_(None), SupervisionFinding.closed_at >= end),
        )
    )
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
        findings_closed_in_period=closed_in_period or 0,
        findings_open_at_end=open_at_end or 0,
        sharing_events=sharing,
        shared_cases=cases,
    )
