"""Coverage of the ledger against the visit policies over a period: per category, residents due
a visit in the period, visited in it, visited by their due day, and overdue at its end; visits
as 人次 and distinct residents as 人; open cases and overdue follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.cases.models import Case, CaseStatus
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.stations.models import Station
from coordinator.stations.service import get_station
from coordinator.stats.coverage import CATEGORY_LABELS
from coordinator.visits.due import ledger_status
from coordinator.visits.models import FollowUp, VisitOutcome, VisitRecord
from coordinator.visits.policies import policies


@dataclass(frozen=True)
class CategoryVisits:
    category: str
    label: str
    interval_days: int
    ledger: int
    due: int
    visited: int
    visited_on_time: int
    overdue: int


@dataclass(frozen=True)
class VisitCoverage:
    station: Station
    first: date
    last: date
    categories: list[CategoryVisits]
    visits: int  # completed visits (人次)
    residents_visited: int  # distinct residents (人)
    attempts: int  # not at home or refused
    open_cases: int
    overdue_follow_ups: int


def period(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """Default: this month up to today."""
    first = first or today.replace(day=1)
    last = last or max(today, first)
    if last < first:
        raise Invalid(
            "结束日期早于开始日期", "The period ends before it starts", code="bad_period", field="to"
        )
    return first, last


async def visit_coverage(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    *,
    station_id: int,
    first: date | None,
    last: date | None,
) -> VisitCoverage:
    principal.require_staff()
    station = await get_station(session=session, principal=principal, station_id=station_id)
    zone = ZoneInfo(station.timezone)
    now = clock.now()
    first, last = period(first, last, now.astimezone(zone).date())
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    # Overdue as of the period's last instant (or now, in a running period): due before that day.
    as_of = min(end - timedelta(microseconds=1), now)
    before = {r.resident_id: r for r in await ledger_status(session, [station], now=as_of, before=start)}
    at_end = {r.resident_id: r for r in await ledger_status(session, [station], now=as_of, before=end)}
    intervals = (await policies(session, [station.id]))[station.id]
    visits = await session.execute(
        select(VisitRecord.resident_id, VisitRecord.outcome, VisitRecord.visited_at).where(
            VisitRecord.station_id == station.id,
            VisitRecord.visited_at >= start,
            VisitRecord.visited_at < end,
        )
    )
    first_visit: dict[int, date] = {}
    completed = attempts = 0
    for resident_id, outcome, at in visits:
        if outcome != VisitOutcome.visited:
            attempts += 1
            continue
        completed += 1
        day = at.astimezone(zone).date()
        first_visit[resident_id] = min(day, first_visit.get(resident_id, day))
    categories: dict[str, list[int]] = {}
    for resident in before.values():
        for category in resident.categories:
            if category in intervals:
                categories.setdefault(category, []).append(resident.resident_id)
    rows = []
    for category in sorted(
        categories,
        key=lambda c: (
            c not in CATEGORY_LABELS,
            list(CATEGORY_LABELS).index(c) if c in CATEGORY_LABELS else 0,
            c,
        ),
    ):
        ids = categories[category]
        due = [rid for rid in ids if before[rid].due_on <= last]
        rows.append(
            CategoryVisits(
                category=category,
                label=CATEGORY_LABELS.get(category, category),
                interval_days=intervals[category],
                ledger=len(ids),
                due=len(due),
                visited=sum(rid in first_visit for rid in due),
                visited_on_time=sum(
                    rid in first_visit and first_visit[rid] <= before[rid].due_on for rid in due
                ),
                overdue=sum(at_end[rid].days_overdue > 0 for rid in ids),
            )
        )
    return VisitCoverage(
        station=station,
        first=first,
        last=last,
        categories=rows,
        visits=completed,
        residents_visited=len(first_visit),
        attempts=attempts,
        open_cases=await _open_cases(session, station.id),
        overdue_follow_ups=await _overdue_follow_ups(session, station.id, now.astimezone(zone).date()),
    )


async def _open_cases(session: AsyncSession, station_id: int) -> int:
    stmt = select(func.count()).where(Case.station_id == station_id, Case.status == CaseStatus.open)
    return int(await session.scalar(stmt) or 0)


async def _overdue_follow_ups(session: AsyncSession, station_id: int, today: date) -> int:
    stmt = select(func.count()).where(
        FollowUp.station_id == station_id, FollowUp.done_at.is_(None), FollowUp.due_on < today
    )
    return int(await session.scalar(stmt) or 0)
