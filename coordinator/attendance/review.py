"""Self-reports and what staff do with records afterwards: approve, correct, read the audit trail.

Every change to an existing row is audited field by field (``recording.announce``); a correction
locks the row like any other writer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceAudit,
    AttendanceMethod,
    AttendanceStatus,
)
from coordinator.attendance.recording import (
    announce,
    claim,
    event_minutes,
    is_confirmed,
    load_event,
    lock_row,
    new_row_values,
    not_signed_up,
    refresh_minutes,
    require_open,
    snapshot,
)
from coordinator.attendance.schemas import ApproveIn, AttendancePatch, SelfReportIn
from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.clock import Clock
from coordinator.errors import Conflict, Forbidden, Invalid, not_found
from coordinator.events.models import Event
from coordinator.pagination import paginate


async def self_report(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int, data: SelfReportIn
) -> Attendance:
    """A volunteer reports their own time at an event no organizer attended; it waits for approval."""
    person_id = principal.person_id
    if person_id is None:
        raise Forbidden("只有志愿者本人可以自报出勤", "Only volunteers report their own attendance")
    event = await load_event(session, principal, event_id, staff_only=False)
    if not await is_confirmed(session, event.id, person_id):
        # A volunteer cannot see events they are not signed up for: same answer as a missing one.
        raise not_signed_up(person_id)
    require_open(event)
    if clock.now() < event.starts_at:
        raise Conflict("活动尚未开始", "The event has not started yet", code="event_not_started")
    _check_within_event(event, data)
    row, created = await claim(
        session,
        new_row_values(
            event,
            clock,
            person_id=person_id,
            status=AttendanceStatus.present,
            method=AttendanceMethod.self_report,
            recorded_by=principal.user_id,
            checked_in_at=data.checked_in_at,
            checked_out_at=data.checked_out_at,
            approved=False,
            note=data.note,
        ),
    )
    if created:
        await announce(session, clock, row, before=None, changed_by=principal.user_id)
        return row
    # A no-show (the event was completed before the report came) or a report still waiting may be
    # (re)placed; anything staff or a scan recorded stands.
    if row.status != AttendanceStatus.no_show and not (
        row.method == AttendanceMethod.self_report and not row.approved
    ):
        raise Conflict("出勤已登记", "Attendance is already recorded", code="already_recorded")
    before = snapshot(row)
    row.status, row.method, row.approved = AttendanceStatus.present, AttendanceMethod.self_report, False
    row.checked_in_at, row.checked_out_at, row.note = data.checked_in_at, data.checked_out_at, data.note
    refresh_minutes(event, row)
    await announce(session, clock, row, before=before, changed_by=principal.user_id)
    return row


def _check_within_event(event: Event, data: SelfReportIn) -> None:
    # Hours are capped anyway; this stops a report of another day landing on this event.
    if data.checked_in_at >= event.ends_at or data.checked_out_at <= event.starts_at:
        raise Invalid(
            "自报时间与活动时间不重叠",
            "The reported times do not overlap the event",
            code="time_outside_event",
            field="checked_in_at",
        )


async def get_attendance(
    *, session: AsyncSession, principal: Principal, attendance_id: int, for_update: bool = False
) -> Attendance:
    """Staff see their stations' rows, a volunteer their own; anything else is 404."""
    row = await (lock_row(session, attendance_id) if for_update else session.get(Attendance, attendance_id))
    own = row is not None and principal.person_id is not None and row.person_id == principal.person_id
    if row is None or not (own or (principal.role in STAFF_ROLES and principal.can_access(row.station_id))):
        raise not_found("出勤记录", "attendance", attendance_id)
    return row


async def approve(
    *, session: AsyncSession, clock: Clock, principal: Principal, attendance_id: int, data: ApproveIn
) -> Attendance:
    principal.require_staff()
    row = await get_attendance(
        session=session, principal=principal, attendance_id=attendance_id, for_update=True
    )
    if row.approved:
        raise Conflict("该记录无需审核", "This record is not waiting for approval", code="not_pending")
    event = await session.get(Event, row.event_id)
    assert event is not None  # rows are deleted with their event
    before = snapshot(row)
    row.approved, row.approved_by, row.approved_at = True, principal.user_id, clock.now()
    _set_minutes(event, row, data.minutes, "minutes" in data.model_fields_set, data.reason)
    await announce(session, clock, row, before=before, changed_by=principal.user_id, reason=data.reason)
    return row


async def correct(
    *, session: AsyncSession, clock: Clock, principal: Principal, attendance_id: int, data: AttendancePatch
) -> Attendance:
    """Staff edit status, times or minutes; every changed field gets an audit entry."""
    principal.require_staff()
    row = await get_attendance(
        session=session, principal=principal, attendance_id=attendance_id, for_update=True
    )
    event = await session.get(Event, row.event_id)
    assert event is not None
    before = snapshot(row)
    sent = data.model_fields_set
    if "status" in sent and data.status is not None:
        row.status = data.status
    for field in ("checked_in_at", "checked_out_at", "note"):
        if field in sent:
            setattr(row, field, getattr(data, field))
    if row.status not in ATTENDED_STATUSES:
        row.checked_in_at = row.checked_out_at = None
    if row.checked_in_at and row.checked_out_at and row.checked_out_at < row.checked_in_at:
        raise Invalid(
            "签退时间早于签到时间", "Check-out would be before check-in", code="checkout_before_checkin"
        )
    _set_minutes(event, row, data.minutes, "minutes" in sent, data.reason)
    await announce(session, clock, row, before=before, changed_by=principal.user_id, reason=data.reason)
    return row


def _set_minutes(event: Event, row: Attendance, minutes: int | None, sent: bool, reason: str | None) -> None:
    """Minutes sent: staff approve exactly that, past the cap only with a reason (``HOURS_RULE``).
    Sent as null: computed again from the times. Not sent: an earlier staff figure stands, else
    computed."""
    if sent and minutes is not None and minutes > event_minutes(event) and not reason:
        raise Invalid(
            "超过活动时长的志愿服务时长须注明理由",
            "Minutes beyond the activity's length need a reason",
            code="reason_required",
            field="reason",
        )
    if sent:
        row.minutes_overridden = minutes is not None
        if minutes is not None:
            row.minutes = minutes
    refresh_minutes(event, row)


async def audit_trail(
    *, session: AsyncSession, principal: Principal, attendance_id: int
) -> list[AttendanceAudit]:
    principal.require_staff()
    await get_attendance(session=session, principal=principal, attendance_id=attendance_id)
    rows = await session.scalars(
        select(AttendanceAudit)
        .where(AttendanceAudit.attendance_id == attendance_id)
        .order_by(AttendanceAudit.id)
    )
    return list(rows)


async def list_event_attendance(
    *, session: AsyncSession, principal: Principal, event_id: int, limit: int, cursor: str | None
) -> tuple[list[Attendance], str | None]:
    await load_event(session, principal, event_id)
    stmt = select(Attendance).where(Attendance.event_id == event_id)
    return await paginate(session, stmt, keys=[Attendance.id], limit=limit, cursor=cursor)
