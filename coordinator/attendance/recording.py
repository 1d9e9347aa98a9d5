"""The one way an attendance row is written, shared by scans, rosters, batches and reviews.

``claim`` inserts the one row of an (event, person) or locks the row already there, so writers
that meet change one row (docs/concurrency.md, invariant 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert

from coordinator.attendance.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceAudit,
    AttendanceMethod,
    AttendanceStatus,
)
from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.db import Base, is_postgres
from coordinator.domain_events import DomainEventType
from coordinator.errors import Conflict, not_found
from coordinator.events.models import Event, EventStatus, Signup, SignupStatus

# The fields whose change is a change of the record: audited and announced.
TRACKED_FIELDS = (
    "status",
    "method",
    "walk_in",
    "checked_in_at",
    "checked_out_at",
    "minutes",
    "minutes_overridden",
    "approved",
    "note",
)
_OPEN_STATUSES = (EventStatus.published, EventStatus.completed)


async def load_event(
    session: AsyncSession, principal: Principal, event_id: int, *, staff_only: bool = True
) -> Event:
    """An event the caller may record attendance for; any other id answers 404."""
    if staff_only:
        principal.require_staff()
    event = await session.get(Event, event_id)
    if event is None or (principal.role in STAFF_ROLES and not principal.can_access(event.station_id)):
        raise not_found("活动", "event", event_id)
    return event


def require_open(event: Event) -> None:
    """Attendance belongs to events that happen: published (or already completed), not drafts or
    cancelled ones."""
    if event.status not in _OPEN_STATUSES:
        raise Conflict(
            "活动未发布或已取消，不能登记出勤",
            f"Event {event.id} is {event.status}: attendance cannot be recorded",
            code="event_not_open",
        )


async def confirmed_person_ids(session: AsyncSession, event_id: int) -> set[int]:
    rows = await session.scalars(
        select(Signup.person_id).where(Signup.event_id == event_id, Signup.status == SignupStatus.confirmed)
    )
    return set(rows)


async def is_confirmed(session: AsyncSession, event_id: int, person_id: int) -> bool:
    found = await session.scalar(
        select(Signup.id)
        .where(
            Signup.event_id == event_id,
            Signup.person_id == person_id,
            Signup.status == SignupStatus.confirmed,
        )
        .limit(1)
    )
    return found is not None


def not_signed_up(person_id: int) -> Conflict:
    return Conflict(
        "此人未确认报名该活动；如为现场参加，请标记为临时参加",
        f"Person {person_id} has no confirmed sign-up for this event; mark them as a walk-in",
        code="not_signed_up",
        details={"person_id": person_id},
    )


# The hours rule in words, as certificates and exports state it (``compute_minutes`` is the rule).
HOURS_RULE = (
    "志愿服务时长为实际提供志愿服务的时间（签到至签退），每次以活动时长为上限；"
    "超出部分须由工作人员核定并记录理由。",
    "Hours are actual service time (check-in to check-out), capped at the activity's length; "
    "staff may approve more only with a recorded reason.",
)


def event_minutes(event: Event) -> int:
    """The activity's length in whole minutes: the cap on anyone's hours at it."""
    return int((event.ends_at - event.starts_at).total_seconds() // 60)


def compute_minutes(
    event: Event, status: str, checked_in_at: datetime | None, checked_out_at: datetime | None
) -> int:
    """Whole minutes between check-in and check-out, never more than the event lasts. An open
    check-in counts until the event's end, so forgetting to check out does not cost the hours."""
    if status not in ATTENDED_STATUSES or checked_in_at is None:
        return 0
    until = checked_out_at or event.ends_at
    seconds = (until - checked_in_at).total_seconds()
    cap = (event.ends_at - event.starts_at).total_seconds()
    return int(max(0.0, min(seconds, cap)) // 60)


def refresh_minutes(event: Event, row: Attendance) -> None:
    if not row.minutes_overridden:
        row.minutes = compute_minutes(event, row.status, row.checked_in_at, row.checked_out_at)


def new_row_values(
    event: Event,
    clock: Clock,
    *,
    person_id: int,
    status: AttendanceStatus,
    method: AttendanceMethod | None,
    recorded_by: int | None,
    checked_in_at: datetime | None = None,
    checked_out_at: datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    now = clock.now()
    return {
        "event_id": event.id,
        "person_id": person_id,
        "station_id": event.station_id,
        "status": status,
        "method": method,
        "walk_in": False,
        "checked_in_at": checked_in_at,
        "checked_out_at": checked_out_at,
        "minutes": compute_minutes(event, status, checked_in_at, checked_out_at),
        "minutes_overridden": False,
        "approved": True,
        "recorded_by": recorded_by,
        "created_at": now,
        "updated_at": now,
        **fields,
    }


def insert_for(session: AsyncSession, entity: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, for ON CONFLICT clauses (both dialects spell them alike)."""
    return postgresql.insert(entity) if is_postgres(session) else sqlite.insert(entity)


_ATTENDANCE: Table = Attendance.__table__  # type: ignore[assignment]  # mapped to a Table
_COLUMNS = tuple(column.key for column in _ATTENDANCE.c if column.key != "id")


@cache
def _claim_statement(dialect: str, columns: frozenset[str]) -> ReturningInsert[int]:
    """``INSERT … ON CONFLICT (event_id, person_id) DO NOTHING RETURNING id`` with a bound
    parameter per column, built once per dialect and column set. A Core statement on the table,
    reused as compiled: the ORM ``INSERT … RETURNING Attendance`` it replaces cost several times
    more CPU per scan."""
    insert = postgresql.insert(_ATTENDANCE) if dialect == "postgresql" else sqlite.insert(_ATTENDANCE)
    return (
        insert.values({column: bindparam(column) for column in sorted(columns)})
        .on_conflict_do_nothing(index_elements=["event_id", "person_id"])
        .returning(_ATTENDANCE.c.id)
    )


def _inserted_row(values: dict[str, Any], row_id: int) -> Attendance:
    """The row just inserted, as a persistent instance, without reading it back: every column is
    known (what we inserted, None for the rest), so later changes flush as UPDATEs."""
    row = Attendance(id=row_id, **{column: values.get(column) for column in _COLUMNS})
    make_transient_to_detached(row)  # resets the constructor's attribute history: a loaded row
    return row


_LOCK_STATEMENT = (
    select(Attendance)
    .where(Attendance.event_id == bindparam("event_id"), Attendance.person_id == bindparam("person_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def claim(session: AsyncSession, values: dict[str, Any]) -> tuple[Attendance, bool]:
    """Insert the row unless one exists for (event, person); answer the locked row and whether
    this call created it. A new row comes back from the INSERT itself (and is ours alone until
    commit); only an existing one needs the locking SELECT."""
    statement = _claim_statement(session.get_bind().dialect.name, frozenset(values))
    row_id = (await session.execute(statement, values)).scalar()
    if row_id is not None:
        created = _inserted_row(values, row_id)
        session.add(created)
        return created, True
    row = await session.scalar(
        _LOCK_STATEMENT, {"event_id": values["event_id"], "person_id": values["person_id"]}
    )
    assert row is not None  # there already; rows are never deleted mid-request
    return row, False


async def lock_row(session: AsyncSession, attendance_id: int) -> Attendance | None:
    return await session.scalar(
        select(Attendance)
        .where(Attendance.id == attendance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def snapshot(row: Attendance) -> dict[str, Any]:
    return {field: getattr(row, field) for field in TRACKED_FIELDS}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def announce(
    session: AsyncSession,
    clock: Clock,
    row: Attendance,
    *,
    before: dict[str, Any] | None,
    changed_by: int | None,
    reason: str | None = None,
) -> bool:
    """Finish a write: for a new row (``before`` None) or a changed one, emit ``AttendanceRecorded``;
    a changed row also gets one audit entry per changed field. Answers whether anything changed."""
    if before is None:
        changed = list(TRACKED_FIELDS)
    else:
        after = snapshot(row)
        changed = [f for f in TRACKED_FIELDS if before[f] != after[f]]
        if not changed:
            return False
        row.updated_at = clock.now()
        session.add_all(
            AttendanceAudit(
                attendance_id=row.id,
                changed_by=changed_by,
                changed_at=clock.now(),
                field=field,
                before=_text(before[field]),
                after=_text(after[field]),
                reason=reason,
            )
            for field in changed
        )
    await session.flush()
    await emit(
        session,
        clock,
        DomainEventType.attendance_recorded,
        aggregate_type="attendance",
        aggregate_id=row.id,
        station_id=row.station_id,
        payload={
            "attendance_id": row.id,
            "event_id": row.event_id,
            "person_id": row.person_id,
            "station_id": row.station_id,
            "change": "created" if before is None else "updated",
            "changed": sorted(changed),
            "status": str(row.status),
            "minutes": row.minutes,
            "approved": row.approved,
        },
    )
    return True
