"""Visit records: what one visit to one resident found, and the follow-ups it calls for.

A completed visit on an itinerary also counts the resident as served by its event (the one
residents-served path, ``attendance.served``), so activity statistics see home visits too."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.attendance.recording import load_event
from coordinator.attendance.schemas import ServedIn
from coordinator.attendance.served import record_served
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.errors import Conflict, Invalid, not_found
from coordinator.people.models import Person
from coordinator.people.residents import get_resident
from coordinator.visits.models import FollowUp, VisitOutcome, VisitRecord
from coordinator.visits.policies import checklist
from coordinator.visits.schemas import NEEDS, FollowUpIn, VisitIn


async def record_visit(
    *, session: AsyncSession, clock: Clock, principal: Principal, data: VisitIn
) -> VisitRecord:
    resident = await get_resident(session=session, principal=principal, resident_id=data.resident_id)
    if data.event_id is not None:
        event = await load_event(session, principal, data.event_id)
        if event.station_id != resident.station_id:
            raise Invalid(
                "该居民不属于此次走访所在站点",
                "The resident is not on the ledger of the itinerary's station",
                code="resident_other_station",
                field="resident_id",
            )
    await _check_content(session, resident.station_id, data)
    now = clock.now()
    record = VisitRecord(
        station_id=resident.station_id,
        resident_id=resident.id,
        event_id=data.event_id,
        visited_at=data.visited_at or now,
        outcome=data.outcome,
        conditions=dict(data.conditions),
        needs=sorted(set(data.needs)),
        notes=data.notes,
        recorded_by=principal.user_id,
        created_at=now,
    )
    record.follow_ups = [_follow_up(record, item, now) for item in data.follow_ups]
    session.add(record)
    await flush_or_raise(
        session,
        Conflict(
            "该居民在此次走访中已有记录",
            "This resident's visit on this itinerary is already recorded",
            code="visit_already_recorded",
            field="resident_id",
        ),
    )
    if data.event_id is not None and data.outcome is VisitOutcome.visited:
        served = ServedIn(resident_ids=[resident.id])
        await record_served(
            session=session, clock=clock, principal=principal, event_id=data.event_id, data=served
        )
    return record


def _follow_up(record: VisitRecord, item: FollowUpIn, now: datetime) -> FollowUp:
    return FollowUp(
        station_id=record.station_id,
        resident_id=record.resident_id,
        action=item.action,
        owner_person_id=item.owner_person_id,
        due_on=item.due_on,
        created_at=now,
    )


async def _check_content(session: AsyncSession, station_id: int, data: VisitIn) -> None:
    known = {item["code"] for item in await checklist(session, station_id)}
    if unknown := sorted(set(data.conditions) - known):
        raise Invalid(
            f"检查清单中没有这些项目：{'、'.join(unknown)}",
            f"Not on the station's check-list: {', '.join(unknown)}",
            code="unknown_condition",
            field="conditions",
        )
    if unknown := sorted(set(data.needs) - set(NEEDS)):
        raise Invalid(
            f"未知的需求类别：{'、'.join(unknown)}",
            f"Unknown needs: {', '.join(unknown)}",
            code="unknown_need",
            field="needs",
        )
    owners = {f.owner_person_id for f in data.follow_ups if f.owner_person_id is not None}
    if owners:
        found = set(
            await session.scalars(
                select(Person.id).where(Person.id.in_(owners), Person.station_id == station_id)
            )
        )
        if missing := sorted(owners - found):
            raise Invalid(
                f"跟进负责人不在本站：{missing}",
                f"Follow-up owners not at this station: {missing}",
                code="unknown_owner",
                field="follow_ups",
            )


async def list_visits(
    *, session: AsyncSession, principal: Principal, resident_id: int | None, event_id: int | None
) -> list[VisitRecord]:
    """A resident's visits (newest first) or an itinerary's."""
    stmt = select(VisitRecord).options(selectinload(VisitRecord.follow_ups))
    if resident_id is not None:
        resident = await get_resident(session=session, principal=principal, resident_id=resident_id)
        stmt = stmt.where(VisitRecord.resident_id == resident.id)
    if event_id is not None:
        event = await load_event(session, principal, event_id)
        stmt = stmt.where(VisitRecord.event_id == event.id)
    if resident_id is None and event_id is None:
        raise Invalid("请指定居民或走访活动", "Give resident_id or event_id", code="missing_filter")
    return list(await session.scalars(stmt.order_by(VisitRecord.visited_at.desc(), VisitRecord.id.desc())))


async def open_follow_ups(session: AsyncSession, resident_ids: list[int]) -> dict[int, list[FollowUp]]:
    rows = await session.scalars(
        select(FollowUp)
        .where(FollowUp.resident_id.in_(resident_ids), FollowUp.done_at.is_(None))
        .order_by(FollowUp.due_on, FollowUp.id)
    )
    out: dict[int, list[FollowUp]] = {}
    for row in rows:
        out.setdefault(row.resident_id, []).append(row)
    return out


async def complete_follow_up(
    *, session: AsyncSession, clock: Clock, principal: Principal, follow_up_id: int
) -> FollowUp:
    principal.require_staff()
    follow_up = await session.get(FollowUp, follow_up_id, with_for_update=True)
    if follow_up is None or not principal.can_access(follow_up.station_id):
        raise not_found("跟进事项", "follow_up", follow_up_id)
    if follow_up.done_at is None:
        follow_up.done_at = clock.now()
        await session.flush()
    return follow_up


def is_overdue(follow_up: FollowUp, today: date) -> bool:
    return follow_up.done_at is None and follow_up.due_on < today
