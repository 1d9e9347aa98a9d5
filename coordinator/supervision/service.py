"""Supervision visits and their findings; the shared-case count of exchange sessions and showcases."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict, Forbidden, Invalid, not_found
from coordinator.events.models import Event, EventStatus
from coordinator.events.service import get_event_for
from coordinator.pagination import paginate
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.supervision.checklist import check_item
from coordinator.supervision.models import FindingStatus, SharedCases, SupervisionFinding, SupervisionVisit
from coordinator.supervision.schemas import FindingIn, SharedCasesIn, VisitCreate

SHARING_THEMES = ("exchange", "case_showcase")


async def record_visit(
    *, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal, data: VisitCreate
) -> tuple[SupervisionVisit, list[SupervisionFinding]]:
    """A visit with its findings, recorded by staff of a region above the station (or an admin)."""
    principal.require_staff()
    if await session.get(Station, data.station_id) is None or not principal.can_access(data.station_id):
        raise not_found("服务站", "station", data.station_id)
    if not principal.is_admin and principal.region_id is None:
        raise Forbidden(
            "督导由上级区域的工作人员记录",
            "Supervision visits are recorded by staff of a region above the station",
            code="supervisor_only",
        )
    findings = [_finding(settings, index, item) for index, item in enumerate(data.findings)]
    if len({f.item for f in findings}) != len(findings):
        raise Invalid(
            "同一检查项出现了两次", "A check-list item appears twice", code="duplicate_item", field="findings"
        )
    visit = SupervisionVisit(
        **data.model_dump(exclude={"findings"}), recorded_by=principal.user_id, created_at=clock.now()
    )
    session.add(visit)
    await session.flush()
    for finding in findings:
        finding.visit_id = visit.id
    session.add_all(findings)
    await session.flush()
    return visit, findings


def _finding(settings: Settings, index: int, item: FindingIn) -> SupervisionFinding:
    field = f"findings.{index}"
    check_item(settings, item.item, field=f"{field}.item")
    if not item.met and (item.follow_up is None or item.due_on is None):
        raise Invalid(
            "未达标的检查项需要整改要求和整改期限",
            "An item not in order needs a follow-up and its due date",
            code="follow_up_required",
            field=field,
        )
    return SupervisionFinding(
        item=item.item,
        status=FindingStatus.met if item.met else FindingStatus.open,
        note=item.note,
        follow_up=None if item.met else item.follow_up,
        due_on=None if item.met else item.due_on,
    )


async def get_visit(
    *, session: AsyncSession, principal: Principal, visit_id: int
) -> tuple[SupervisionVisit, list[SupervisionFinding]]:
    """A visit to one of the caller's stations (staff only); any other id answers 404."""
    principal.require_staff()
    visit = await session.get(SupervisionVisit, visit_id)
    if visit is None or not principal.can_access(visit.station_id):
        raise not_found("督导记录", "visit", visit_id)
    return visit, await findings_of(session, [visit.id])


async def findings_of(session: AsyncSession, visit_ids: Sequence[int]) -> list[SupervisionFinding]:
    rows = await session.scalars(
        select(SupervisionFinding)
        .where(SupervisionFinding.visit_id.in_(visit_ids))
        .order_by(SupervisionFinding.visit_id, SupervisionFinding.id)
    )
    return list(rows)


async def list_visits(
    *, session: AsyncSession, principal: Principal, station_id: int | None, limit: int, cursor: str | None
) -> tuple[list[SupervisionVisit], str | None]:
    principal.require_staff()
    stmt = select(SupervisionVisit).where(principal.station_filter(SupervisionVisit.station_id))
    if station_id is not None:
        stmt = stmt.where(SupervisionVisit.station_id == station_id)
    return await paginate(
        session, stmt, keys=[SupervisionVisit.visited_on, SupervisionVisit.id], limit=limit, cursor=cursor
    )


async def close_finding(
    *, session: AsyncSession, clock: Clock, principal: Principal, finding_id: int, note: str | None
) -> SupervisionFinding:
    """The follow-up is done: staff of the station (or of a region above it) close the finding."""
    principal.require_staff()
    found = (
        await session.execute(
            select(SupervisionFinding, SupervisionVisit.station_id)
            .join(SupervisionVisit, SupervisionVisit.id == SupervisionFinding.visit_id)
            .where(SupervisionFinding.id == finding_id)
            .with_for_update(of=SupervisionFinding)
        )
    ).one_or_none()
    if found is None or not principal.can_access(found[1]):
        raise not_found("督导发现", "finding", finding_id)
    finding = found[0]
    if finding.status != FindingStatus.open:
        raise Conflict(
            "此项不是待整改状态",
            f"Finding {finding_id} is {finding.status}, not open",
            code="finding_not_open",
        )
    finding.status = FindingStatus.closed
    finding.closed_at, finding.closed_by, finding.closing_note = clock.now(), principal.user_id, note
    await session.flush()
    return finding


async def set_shared_cases(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int, data: SharedCasesIn
) -> SharedCases:
    principal.require_staff()
    event: Event = await get_event_for(session, principal, event_id)
    if event.theme not in SHARING_THEMES or event.status == EventStatus.cancelled:
        raise Invalid(
            "只有经验交流会和案例展示活动可以登记分享案例数",
            "Shared cases are counted for exchange sessions and case showcases (not cancelled)",
            code="not_a_sharing_event",
        )
    row = await session.get(SharedCases, event.id, with_for_update=True)
    if row is not None:
        row.cases, row.recorded_by, row.updated_at = data.cases, principal.user_id, clock.now()
        await session.flush()
        return row
    row = SharedCases(
        event_id=event.id, station_id=event.station_id, cases=data.cases,
        recorded_by=principal.user_id, updated_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    # A concurrent first count of the same event: the primary key keeps one, the other is told.
    await flush_or_raise(
        session,
        Conflict("分享案例数刚被他人登记，请刷新后重试", "The count was just recorded; try again",
                 code="shared_cases_changed"),
    )  # fmt: skip
    return row
