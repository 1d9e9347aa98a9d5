"""Coverage of the support ledger (台账): which residents the station served in the last N days,
by category, and who has not been visited (the list a social worker plans home visits from)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.attendance.models import ServiceRecord
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import not_found
from coordinator.events.models import Event
from coordinator.masking import mask_phone
from coordinator.people.models import Resident
from coordinator.people.vocabulary import RESIDENT_CATEGORIES
from coordinator.stations.models import Station
from coordinator.stats.queries import COUNTED_EVENT_STATUSES

CATEGORY_LABELS = {str(term.code): term.label_zh for term in RESIDENT_CATEGORIES}


@dataclass(frozen=True)
class CategoryCoverage:
    category: str
    label: str
    ledger: int
    served: int


@dataclass(frozen=True)
class Unvisited:
    id: int
    name: str
    categories: list[str]
    phone: str | None
    address: str | None
    last_served_at: datetime | None


@dataclass(frozen=True)
class Coverage:
    station: Station
    days: int
    since: datetime
    ledger: int
    served: int
    personal_data_masked: bool
    categories: list[CategoryCoverage]
    not_visited: list[Unvisited]


async def coverage(
    session: AsyncSession, principal: Principal, clock: Clock, *, station_id: int, days: int
) -> Coverage:
    principal.require_staff()
    station = await session.get(Station, station_id)
    if station is None or not principal.can_access(station.id):
        raise not_found("服务站", "station", station_id)
    now = clock.now()
    since = now - timedelta(days=days)
    residents = list(
        await session.scalars(
            select(Resident)
            .where(Resident.station_id == station.id, Resident.is_active.is_(True))
            .options(selectinload(Resident.category_rows))
            .order_by(Resident.id)
        )
    )
    last_served = await _last_served(session, station.id, now)
    served_ids = {rid for rid, at in last_served.items() if at >= since}
    ledger: dict[str, int] = defaultdict(int)
    served: dict[str, int] = defaultdict(int)
    for resident in residents:
        for category in resident.categories:
            ledger[category] += 1
            served[category] += resident.id in served_ids
    masked = not principal.sees_personal_data(station.id)
    return Coverage(
        station=station,
        days=days,
        since=since,
        ledger=len(residents),
        served=sum(r.id in served_ids for r in residents),
        personal_data_masked=masked,
        categories=[
            CategoryCoverage(code, CATEGORY_LABELS.get(code, code), ledger[code], served[code])
            for code in [*CATEGORY_LABELS, *sorted(set(ledger) - set(CATEGORY_LABELS))]
            if ledger[code]
        ],
        not_visited=[
            Unvisited(
                r.id,
                r.name,
                r.categories,
                mask_phone(r.phone) if masked else r.phone,
                r.address,
                last_served.get(r.id),
            )
            for r in residents
            if r.id not in served_ids
        ],
    )


async def _last_served(session: AsyncSession, station_id: int, now: datetime) -> dict[int, datetime]:
    """When each resident of the station was last served by an event that counts (up to now)."""
    rows = await session.execute(
        select(ServiceRecord.resident_id, func.max(Event.starts_at))
        .join(Event, Event.id == ServiceRecord.event_id)
        .where(ServiceRecord.station_id == station_id, Event.status.in_(COUNTED_EVENT_STATUSES),
               Event.starts_at <= now)
        .group_by(ServiceRecord.resident_id)
    )  # fmt: skip
    return {resident_id: _aware(at) for resident_id, at in rows}


def _aware(value: datetime) -> datetime:
    """``max()`` skips the column type on SQLite and answers a naive UTC value."""
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
