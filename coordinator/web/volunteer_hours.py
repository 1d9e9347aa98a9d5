"""The volunteer's own hours, service record and issued certificates (志愿服务记录与证明)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance
from coordinator.attendance.recording import HOURS_RULE
from coordinator.deps import SessionDep
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.records.models import Certificate, PersonIdentity
from coordinator.stations.models import Station
from coordinator.stats.queries import COUNTED_EVENT_STATUSES
from coordinator.web.context import VolunteerDep, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class HoursLine:
    event: Event
    minutes: int


async def attended(session: AsyncSession, person_id: int) -> list[HoursLine]:
    """Approved attendance of events that happened (the rows the statistics count)."""
    rows = await session.execute(
        select(Event, Attendance.minutes)
        .join(Attendance, Attendance.event_id == Event.id)
        .where(
            Attendance.person_id == person_id,
            Attendance.approved.is_(True),
            Attendance.status.in_(ATTENDED_STATUSES),
            Event.status.in_(COUNTED_EVENT_STATUSES),
        )
        .order_by(Event.starts_at.desc())
    )
    return [HoursLine(event, minutes) for event, minutes in rows]


async def _context(session: AsyncSession, person_id: int) -> dict[str, Any]:
    person = await session.get(Person, person_id)
    assert person is not None
    station = await session.get(Station, person.station_id)
    assert station is not None
    lines = await attended(session, person.id)
    certificates = await session.scalars(
        select(Certificate).where(Certificate.person_id == person.id).order_by(Certificate.issued_at.desc())
    )
    return {
        "identity": await session.get(PersonIdentity, person.id),
        "certificates": list(certificates),
        "hours_rule": HOURS_RULE,
        "person": person,
        "station": station,
        "zone": ZoneInfo(station.timezone),
        "lines": lines,
        "total_hours": round(sum(line.minutes for line in lines) / 60, 1),
    }


@router.get("/web/m/hours", response_class=HTMLResponse)
async def my_hours(request: Request, viewer: VolunteerDep, session: SessionDep) -> HTMLResponse:
    return render(request, "m_hours.html", viewer, **await _context(session, viewer.person_id))


@router.get("/web/m/certificate", response_class=HTMLResponse)
async def certificate(request: Request, viewer: VolunteerDep, session: SessionDep) -> HTMLResponse:
    context = await _context(session, viewer.person_id)
    return render(request, "m_certificate.html", viewer, **context)
