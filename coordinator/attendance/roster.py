"""The organizer's roster: present / late / absent for each sign-up and each walk-in, in one request.

Idempotent: sending the same roster again changes nothing. A line for a row that exists updates
it (times not sent keep what a scan stored, or default to the event's start and end). All lines are
checked before anything is written, and the request's transaction makes it all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance, AttendanceMethod, AttendanceStatus
from coordinator.attendance.recording import (
    announce,
    claim,
    confirmed_person_ids,
    load_event,
    new_row_values,
    not_signed_up,
    refresh_minutes,
    require_open,
    snapshot,
)
from coordinator.attendance.schemas import RosterIn, RosterRecord
from coordinator.attendance.walk_ins import walk_in_person
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid, not_found
from coordinator.events.models import Event
from coordinator.people.models import Person


@dataclass
class RosterResult:
    rows: list[Attendance] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Line:
    person_id: int
    record: RosterRecord
    walk_in: bool


async def record_roster(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int, data: RosterIn
) -> RosterResult:
    event = await load_event(session, principal, event_id)
    require_open(event)
    lines = await _resolve_lines(session, clock, principal, event, data.records)
    result = RosterResult()
    # One lock order for every request: (event, person).
    for line in sorted(lines, key=lambda line: line.person_id):
        row, outcome = await _apply(session, clock, principal, event, line)
        result.rows.append(row)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


async def _resolve_lines(
    session: AsyncSession, clock: Clock, principal: Principal, event: Event, records: list[RosterRecord]
) -> list[_Line]:
    confirmed = await confirmed_person_ids(session, event.id)
    lines: list[_Line] = []
    seen: set[int] = set()
    for index, record in enumerate(records):
        if record.person_id is not None:
            person = await session.get(Person, record.person_id)
            if person is None or not principal.can_access(person.station_id):
                raise not_found("人员", "person", record.person_id)
        else:
            # The schema requires both name and phone when there is no person_id.
            assert record.name is not None
            assert record.phone is not None
            person = await walk_in_person(
                session,
                clock,
                station_id=event.station_id,
                name=record.name,
                phone=record.phone,
                field=f"records.{index}.phone",
            )
        if person.id in seen:
            raise Invalid(
                "同一人在名单中出现了两次",
                f"Person {person.id} appears twice in the roster",
                code="duplicate_person",
                field=f"records.{index}",
            )
        seen.add(person.id)
        is_confirmed = person.id in confirmed
        # Someone added by name and phone is a walk-in by definition.
        if not is_confirmed and not record.walk_in and record.person_id is not None:
            raise not_signed_up(person.id)
        lines.append(_Line(person.id, record, walk_in=not is_confirmed))
    return lines


def _status(record: RosterRecord) -> AttendanceStatus:
    if record.status is not None:
        return record.status
    return AttendanceStatus.present if record.present else AttendanceStatus.absent


async def _apply(
    session: AsyncSession, clock: Clock, principal: Principal, event: Event, line: _Line
) -> tuple[Attendance, str]:
    record, status = line.record, _status(line.record)
    attended = status in ATTENDED_STATUSES
    row, created = await claim(
        session,
        new_row_values(
            event,
            clock,
            person_id=line.person_id,
            status=status,
            method=AttendanceMethod.roster,
            recorded_by=principal.user_id,
            checked_in_at=(record.checked_in_at or event.starts_at) if attended else None,
            checked_out_at=(record.checked_out_at or event.ends_at) if attended else None,
            walk_in=line.walk_in,
            note=record.note,
        ),
    )
    if created:
        await announce(session, clock, row, before=None, changed_by=principal.user_id)
        return row, "created"
    before = snapshot(row)
    row.status = status
    if attended:
        row.checked_in_at = record.checked_in_at or row.checked_in_at or event.starts_at
        row.checked_out_at = record.checked_out_at or row.checked_out_at or event.ends_at
        if row.checked_out_at < row.checked_in_at:
            raise Invalid(
                "签退时间早于签到时间",
                "Check-out would be before check-in",
                code="checkout_before_checkin",
                details={"person_id": line.person_id},
            )
    else:
        row.checked_in_at = row.checked_out_at = None
    if not row.approved:  # the organizer's roster settles a waiting self-report
        row.approved = True
        row.approved_by, row.approved_at = principal.user_id, clock.now()
    if record.note is not None:
        row.note = record.note
    refresh_minutes(event, row)
    changed = await announce(session, clock, row, before=before, changed_by=principal.user_id)
    return row, "updated" if changed else "unchanged"
