"""A station's cases as the case list page shows them: each with its resident (shaped and masked
as the residents API shapes them), its worker and the date of its last entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.auth.principal import Principal
from coordinator.cases.models import Case, CaseEntry, CaseStatus
from coordinator.cases.service import list_cases
from coordinator.people.models import Person, Resident
from coordinator.people.schemas import ResidentOut
from coordinator.people.shaping import resident_out


@dataclass(frozen=True)
class CaseLine:
    case: Case
    resident: ResidentOut
    worker: str
    last_entry_at: datetime | None


async def case_lines(
    *,
    session: AsyncSession,
    principal: Principal,
    station_id: int,
    zone: ZoneInfo,
    now: datetime,
    status: CaseStatus | None,
) -> list[CaseLine]:
    """Open cases first, then closed ones; each group newest first (``list_cases``' order)."""
    cases = await list_cases(
        session=session, principal=principal, station_id=station_id, status=status, resident_id=None
    )
    residents = {
        r.id: r
        for r in await session.scalars(
            select(Resident)
            .where(Resident.id.in_({c.resident_id for c in cases}))
            .options(selectinload(Resident.category_rows))
        )
    }
    names = await session.execute(
        select(Person.id, Person.name).where(Person.id.in_({c.worker_person_id for c in cases}))
    )
    workers = {person_id: name for person_id, name in names}
    latest = await session.execute(
        select(CaseEntry.case_id, func.max(CaseEntry.at))
        .where(CaseEntry.case_id.in_([c.id for c in cases]))
        .group_by(CaseEntry.case_id)
    )
    last = {case_id: at for case_id, at in latest}
    ordered = sorted(cases, key=lambda c: c.status != CaseStatus.open)
    return [
        CaseLine(
            case=c,
            resident=resident_out(residents[c.resident_id], zone, principal, now),
            worker=workers.get(c.worker_person_id, ""),
            last_entry_at=last.get(c.id),
        )
        for c in ordered
    ]
