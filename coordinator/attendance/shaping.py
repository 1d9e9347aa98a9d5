"""Answers for the API: attendance rows with the person's name, times in the station's zone."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import Attendance, AttendanceAudit
from coordinator.attendance.schemas import AttendanceOut, AuditOut
from coordinator.clock import local_or_none
from coordinator.people.models import Person
from coordinator.people.shaping import station_zones


async def attendance_out(session: AsyncSession, rows: Sequence[Attendance]) -> list[AttendanceOut]:
    person_ids = sorted({row.person_id for row in rows})
    named = await session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids)))
    names = {person_id: name for person_id, name in named}
    zones = await station_zones(session, (row.station_id for row in rows))
    return [attendance_row_out(row, names[row.person_id], zones[row.station_id]) for row in rows]


async def one_attendance_out(session: AsyncSession, row: Attendance) -> AttendanceOut:
    return (await attendance_out(session, [row]))[0]


def attendance_row_out(row: Attendance, person_name: str, zone: ZoneInfo) -> AttendanceOut:
    """One row, for callers that already know the person's name and the station's zone."""
    return AttendanceOut(
        id=row.id,
        event_id=row.event_id,
        person_id=row.person_id,
        person_name=person_name,
        status=row.status,
        method=row.method,
        walk_in=row.walk_in,
        checked_in_at=local_or_none(row.checked_in_at, zone),
        checked_out_at=local_or_none(row.checked_out_at, zone),
        minutes=row.minutes,
        hours=round(row.minutes / 60, 2),
        minutes_overridden=row.minutes_overridden,
        approved=row.approved,
        recorded_by=row.recorded_by,
        client_id=row.client_id,
        note=row.note,
        created_at=row.created_at.astimezone(zone),
        updated_at=row.updated_at.astimezone(zone),
    )


def audit_out(entry: AttendanceAudit) -> AuditOut:
    return AuditOut(
        id=entry.id,
        changed_by=entry.changed_by,
        changed_at=entry.changed_at,
        field=entry.field,
        before=entry.before,
        after=entry.after,
        reason=entry.reason,
    )
