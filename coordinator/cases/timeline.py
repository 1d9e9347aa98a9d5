"""A resident's timeline: their visits, the activities that served them and, for note readers,
their case entries (each case shown is a logged read)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ServiceRecord
from coordinator.auth.principal import Principal
from coordinator.cases.access import log_read, may_read_notes
from coordinator.cases.models import Case, CaseEntry
from coordinator.cases.schemas import TimelineItem, TimelineOut
from coordinator.clock import Clock
from coordinator.events.models import Event, EventStatus
from coordinator.people.residents import get_resident
from coordinator.visits.models import VisitRecord
from coordinator.visits.schemas import NEEDS

OUTCOME_LABELS = {"visited": "已走访", "not_at_home": "不在家", "refused": "拒绝走访"}
ENTRY_LABELS = {"visit": "走访", "contact": "联系", "service": "服务", "note": "备注"}


async def timeline(
    *, session: AsyncSession, clock: Clock, principal: Principal, resident_id: int
) -> TimelineOut:
    resident = await get_resident(session=session, principal=principal, resident_id=resident_id)
    items: list[TimelineItem] = []
    for visit in await session.scalars(select(VisitRecord).where(VisitRecord.resident_id == resident.id)):
        needs = "、".join(NEEDS[n][0] for n in visit.needs if n in NEEDS)
        items.append(
            TimelineItem(
                at=visit.visited_at,
                kind="visit",
                title=f"入户走访：{OUTCOME_LABELS[visit.outcome]}",
                detail=f"发现需求：{needs}" if needs else None,
                ref_id=visit.id,
            )
        )
    served = await session.execute(
        select(Event.id, Event.title, Event.starts_at)
        .join(ServiceRecord, ServiceRecord.event_id == Event.id)
        .where(ServiceRecord.resident_id == resident.id, Event.status != EventStatus.cancelled)
    )
    items += [TimelineItem(at=at, kind="activity", title=title, ref_id=eid) for eid, title, at in served]
    readable = await may_read_notes(session, principal, resident.station_id)
    if readable:
        cases = list(await session.scalars(select(Case).where(Case.resident_id == resident.id)))
        entries = await session.scalars(select(CaseEntry).where(CaseEntry.case_id.in_([c.id for c in cases])))
        items += [
            TimelineItem(
                at=e.at,
                kind="case_entry",
                title=f"个案记录（{ENTRY_LABELS[e.kind]}）",
                detail=e.note,
                ref_id=e.id,
                case_id=e.case_id,
            )
            for e in entries
        ]
        for case in cases:
            log_read(session, clock, principal, case_id=case.id, station_id=case.station_id, what="timeline")
        await session.flush()
    items.sort(key=lambda item: (item.at, item.kind, item.ref_id), reverse=True)
    return TimelineOut(resident_id=resident.id, items=items, case_entries_hidden=not readable)
