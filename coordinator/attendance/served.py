"""Residents served by an event: named ledger residents and an anonymous headcount.

Each resident counts once per event: the unique constraint on ``(event_id, resident_id)`` holds
it, and rows are inserted with ON CONFLICT DO NOTHING, so repeating a request (or two at once)
adds nobody twice. The headcount is one row per event, replaced by the latest figure; a report
locks the event row first, so concurrent reports announce a change once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ServiceHeadcount, ServiceRecord
from coordinator.attendance.recording import insert_for, load_event, require_open
from coordinator.attendance.schemas import ServedIn
from coordinator.auth.principal import Principal
from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.errors import Invalid, not_found
from coordinator.events.models import Event
from coordinator.people.models import Resident


@dataclass(frozen=True)
class Served:
    event_id: int
    resident_ids: list[int]
    headcount: int
    added: list[int]


async def record_served(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int, data: ServedIn
) -> Served:
    event = await load_event(session, principal, event_id)
    require_open(event)
    # Reports of one event take turns on its row, so "did the headcount change?" is answered once.
    await session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    wanted = sorted(set(data.resident_ids))
    await _check_residents(session, event, wanted)
    added = [rid for rid in wanted if await _add(session, clock, principal, event, rid)]
    headcount_changed = data.headcount is not None and await _set_headcount(
        session, clock, principal, event, data.headcount
    )
    served = await served_by(session=session, principal=principal, event_id=event_id)
    if added or headcount_changed:
        await _announce(session, clock, event, added=added, removed=[], headcount=served.headcount)
    return Served(event.id, served.resident_ids, served.headcount, added)


async def _check_residents(session: AsyncSession, event: Event, resident_ids: list[int]) -> None:
    if not resident_ids:
        return
    rows = await session.execute(
        select(Resident.id, Resident.station_id).where(Resident.id.in_(resident_ids))
    )
    stations = {resident_id: station_id for resident_id, station_id in rows}
    if missing := [rid for rid in resident_ids if rid not in stations]:
        raise Invalid(
            f"居民不存在：{missing}",
            f"Unknown residents: {missing}",
            code="unknown_resident",
            field="resident_ids",
        )
    # Another station's ledger is not this station's to count (and not its to see).
    if foreign := [rid for rid, station_id in stations.items() if station_id != event.station_id]:
        raise Invalid(
            "只能登记本站台账中的居民",
            f"Residents {sorted(foreign)} are not on this station's ledger",
            code="resident_other_station",
            field="resident_ids",
        )


async def _add(
    session: AsyncSession, clock: Clock, principal: Principal, event: Event, resident_id: int
) -> bool:
    stmt = (
        insert_for(session, ServiceRecord)
        .values(
            event_id=event.id,
            resident_id=resident_id,
            station_id=event.station_id,
            recorded_by=principal.user_id,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["event_id", "resident_id"])
        .returning(ServiceRecord.id)
    )
    return await session.scalar(stmt) is not None


async def _set_headcount(
    session: AsyncSession, clock: Clock, principal: Principal, event: Event, headcount: int
) -> bool:
    current = await session.scalar(
        select(ServiceHeadcount.headcount).where(ServiceHeadcount.event_id == event.id).with_for_update()
    )
    if current == headcount:
        return False
    values = {
        "event_id": event.id,
        "station_id": event.station_id,
        "headcount": headcount,
        "recorded_by": principal.user_id,
        "updated_at": clock.now(),
    }
    stmt = insert_for(session, ServiceHeadcount).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["event_id"],
        set_={"headcount": headcount, "recorded_by": principal.user_id, "updated_at": clock.now()},
    )
    await session.execute(stmt)
    return True


async def remove_served(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int, resident_id: int
) -> Served:
    """A correction: the resident was recorded by mistake."""
    event = await load_event(session, principal, event_id)
    result = await session.execute(
        delete(ServiceRecord)
        .where(ServiceRecord.event_id == event.id, ServiceRecord.resident_id == resident_id)
        .returning(ServiceRecord.id)
    )
    if result.first() is None:
        raise not_found("服务记录", "service_record", resident_id)
    served = await served_by(session=session, principal=principal, event_id=event_id)
    await _announce(session, clock, event, added=[], removed=[resident_id], headcount=served.headcount)
    return Served(event.id, served.resident_ids, served.headcount, [])


async def served_by(*, session: AsyncSession, principal: Principal, event_id: int) -> Served:
    event = await load_event(session, principal, event_id)
    ids = await session.scalars(
        select(ServiceRecord.resident_id)
        .where(ServiceRecord.event_id == event.id)
        .order_by(ServiceRecord.resident_id)
    )
    headcount = await session.scalar(
        select(ServiceHeadcount.headcount).where(ServiceHeadcount.event_id == event.id)
    )
    return Served(event.id, list(ids), headcount or 0, [])


async def _announce(
    session: AsyncSession, clock: Clock, event: Event, *, added: list[int], removed: list[int], headcount: int
) -> None:
    await emit(
        session,
        clock,
        DomainEventType.residents_served,
        aggregate_type="event",
        aggregate_id=event.id,
        station_id=event.station_id,
        payload={
            "event_id": event.id,
            "station_id": event.station_id,
            "added": added,
            "removed": removed,
            "headcount": headcount,
        },
    )
