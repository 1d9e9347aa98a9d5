"""Offline batches: scans, roster ticks and walk-ins collected on a phone without signal, uploaded
later. Each record's client-made id is claimed once (a replay answers ``replayed``); times come from
the record, the earliest check-in and latest check-out winning (``conflict`` says which); a person is
named by id, by a scanned personal code (verified on arrival) or, for a walk-in, by name and phone.
A record that cannot apply answers ``rejected`` with its code while the others still apply: a rural
upload should not fail for one bad scan. Locks and constraints: docs/concurrency.md (attendance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance import tokens
from coordinator.attendance.batch_schemas import BatchIn, BatchRecord, BatchRecordResult
from coordinator.attendance.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    OfflineRecord,
)
from coordinator.attendance.person_codes import person_by_code
from coordinator.attendance.recording import (
    announce,
    claim,
    insert_for,
    is_confirmed,
    new_row_values,
    not_signed_up,
    refresh_minutes,
    require_open,
    snapshot,
)
from coordinator.attendance.walk_ins import walk_in_person
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import CoordinatorError, Invalid, not_found
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.settings import Settings

# How far past the end a check-out may be (people stay to clear up) and how far ahead of the
# server a phone's clock may run.
LATEST_AFTER_END = timedelta(hours=12)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class _Ready:
    index: int
    record: BatchRecord
    event: Event
    person_id: int
    walk_in: bool


async def apply_batch(
    *, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal, data: BatchIn
) -> list[BatchRecordResult]:
    principal.require_staff()
    results: dict[int, BatchRecordResult] = {}
    ready: list[_Ready] = []
    events: dict[int, Event] = {}
    for index, record in enumerate(data.records):
        try:
            ready.append(await _prepare(session, clock, settings, principal, events, index, record))
        except CoordinatorError as error:
            results[index] = _rejected(record, error)
    # Lock order (event, person); within a person, time order makes the outcome reproducible.
    ready.sort(key=lambda r: (r.event.id, r.person_id, r.record.at, r.record.kind, r.record.client_id))
    for item in ready:
        results[item.index] = await _apply(session, clock, principal, item)
    return [results[i] for i in range(len(data.records))]


def _checkin_status(record: BatchRecord) -> AttendanceStatus:
    return AttendanceStatus.late if record.late else AttendanceStatus.present


def _rejected(record: BatchRecord, error: CoordinatorError) -> BatchRecordResult:
    return BatchRecordResult(
        client_id=record.client_id,
        outcome="rejected",
        code=error.code,
        message=error.message,
        message_en=error.message_en,
    )


async def _prepare(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    principal: Principal,
    events: dict[int, Event],
    index: int,
    record: BatchRecord,
) -> _Ready:
    event = events.get(record.event_id) or await session.get(Event, record.event_id)
    if event is None or not principal.can_access(event.station_id):
        raise not_found("活动", "event", record.event_id)
    events[event.id] = event
    require_open(event)
    _check_time(event, record.at, clock.now())
    person: Person | None
    if record.person_token is not None:
        secret = settings.secret_key.get_secret_value()
        person = await person_by_code(
            session, secret, record.person_token, now=clock.now(), principal=principal
        )
        person_id = person.id
    elif record.phone is not None:
        assert record.name is not None  # the schema requires a walk-in's name with the phone
        person = await walk_in_person(
            session,
            clock,
            station_id=event.station_id,
            name=record.name,
            phone=record.phone,
            field=f"records.{index}.phone",
        )
        person_id = person.id
    else:
        assert record.person_id is not None  # the schema requires one of the three
        person_id = record.person_id
        person = await session.get(Person, person_id)
    if person is None or not principal.can_access(person.station_id):
        raise not_found("人员", "person", person_id)
    confirmed = await is_confirmed(session, event.id, person_id)
    # Someone added by name and phone is a walk-in by definition.
    if not confirmed and not record.walk_in and record.phone is None:
        raise not_signed_up(person_id)
    return _Ready(index, record, event, person_id, walk_in=not confirmed)


def _check_time(event: Event, at: datetime, now: datetime) -> None:
    opens = tokens.checkin_window(event).opens_at
    if at > now + CLOCK_SKEW:
        raise Invalid("记录时间晚于当前时间", "The record's time is in the future", code="time_in_future")
    if not opens <= at <= event.ends_at + LATEST_AFTER_END:
        raise Invalid(
            "记录时间不在活动时间范围内", "The record's time is outside the event", code="time_outside_event"
        )


async def _claim_client_id(
    session: AsyncSession, clock: Clock, principal: Principal, item: _Ready
) -> int | None:
    stmt = (
        insert_for(session, OfflineRecord)
        .values(
            client_id=item.record.client_id,
            event_id=item.event.id,
            person_id=item.person_id,
            kind=item.record.kind,
            at=item.record.at,
            outcome="pending",
            received_at=clock.now(),
            recorded_by=principal.user_id,
        )
        .on_conflict_do_nothing(index_elements=["client_id"])
        .returning(OfflineRecord.id)
    )
    return await session.scalar(stmt)


async def _apply(
    session: AsyncSession, clock: Clock, principal: Principal, item: _Ready
) -> BatchRecordResult:
    record = item.record
    claim_id = await _claim_client_id(session, clock, principal, item)
    if claim_id is None:
        return BatchRecordResult(client_id=record.client_id, outcome="replayed", person_id=item.person_id)
    checkin = record.kind == "checkin"
    row, created = await claim(
        session,
        new_row_values(
            item.event,
            clock,
            person_id=item.person_id,
            status=_checkin_status(record),
            method=AttendanceMethod.offline_batch,
            recorded_by=principal.user_id,
            checked_in_at=record.at if checkin else None,
            checked_out_at=None if checkin else record.at,
            walk_in=item.walk_in,
            client_id=record.client_id,
        ),
    )
    if created:
        await announce(session, clock, row, before=None, changed_by=principal.user_id)
        result = BatchRecordResult(
            client_id=record.client_id, outcome="applied", attendance_id=row.id, person_id=item.person_id
        )
    else:
        try:
            result = await _merge(session, clock, principal, item, row)
        except CoordinatorError as error:
            # Not applied: forget the client id so a corrected upload of it is not "replayed".
            await session.execute(delete(OfflineRecord).where(OfflineRecord.id == claim_id))
            return _rejected(record, error)
    await session.execute(
        update(OfflineRecord).where(OfflineRecord.id == claim_id).values(outcome=result.outcome)
    )
    return result


async def _merge(
    session: AsyncSession, clock: Clock, principal: Principal, item: _Ready, row: Attendance
) -> BatchRecordResult:
    record, at = item.record, item.record.at
    before = snapshot(row)
    field = "checked_in_at" if record.kind == "checkin" else "checked_out_at"
    stored: datetime | None = getattr(row, field)
    base = BatchRecordResult(
        client_id=record.client_id, outcome="applied", attendance_id=row.id, person_id=item.person_id
    )
    if not (row.status in ATTENDED_STATUSES and row.approved):
        # No-show, absent or a waiting self-report: the offline scan is the evidence that counts.
        row.status, row.approved = _checkin_status(record), True
        row.checked_in_at = row.checked_out_at = None
        if row.method in (AttendanceMethod.self_report, None):
            row.method = AttendanceMethod.offline_batch
        setattr(row, field, at)
    else:
        if record.kind == "checkin" and row.checked_out_at is not None and at > row.checked_out_at:
            raise _out_before_in()
        if record.kind == "checkout" and row.checked_in_at is not None and at < row.checked_in_at:
            raise _out_before_in()
        if stored == at:
            return base.model_copy(update={"outcome": "unchanged"})
        wins = stored is None or (at < stored if record.kind == "checkin" else at > stored)
        if stored is not None:
            base = base.model_copy(
                update={
                    "outcome": "conflict",
                    "resolution": "replaced_stored" if wins else "kept_stored",
                    "stored_at": stored,
                }
            )
        if not wins:
            return base
        setattr(row, field, at)
        if record.kind == "checkin":  # the status follows the check-in that counts
            row.status = _checkin_status(record)
    refresh_minutes(item.event, row)
    await announce(session, clock, row, before=before, changed_by=principal.user_id)
    return base


def _out_before_in() -> Invalid:
    return Invalid(
        "签退时间早于签到时间", "Check-out would be before check-in", code="checkout_before_checkin"
    )
