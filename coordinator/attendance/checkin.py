"""QR scans: a volunteer scans the event's code, or an organizer scans the volunteer's own code.

The first scan checks in, the next one checks out, any later one changes nothing. A scan within
``REPEAT_SCAN_GAP`` of the check-in is a repeat (a shaky hand, a double tap), not a check-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance import tokens
from coordinator.attendance.models import ATTENDED_STATUSES, Attendance, AttendanceMethod, AttendanceStatus
from coordinator.attendance.person_codes import person_by_code
from coordinator.attendance.recording import (
    announce,
    claim,
    is_confirmed,
    load_event,
    new_row_values,
    not_signed_up,
    refresh_minutes,
    require_open,
    snapshot,
)
from coordinator.attendance.schemas import CheckinAction, CheckinIn, ScanIn
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Forbidden, not_found
from coordinator.events.models import Event, Signup, SignupStatus
from coordinator.observability.logging import annotate_request
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station

REPEAT_SCAN_GAP = timedelta(minutes=5)


@dataclass(frozen=True)
class ScanResult:
    action: CheckinAction
    attendance: Attendance


def _secret(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


@dataclass(frozen=True)
class CodeCheckin:
    scan: ScanResult
    event: Event
    person_name: str
    zone: ZoneInfo


# The event, its station's zone, the person's name and whether they hold a confirmed sign-up:
# one query, built once (SQLAlchemy reuses its compiled form on every check-in).
_CONTEXT = (
    select(
        Event,
        Station.timezone,
        Person.name,
        select(Signup.id)
        .where(
            Signup.event_id == Event.id,
            Signup.person_id == Person.id,
            Signup.status == SignupStatus.confirmed,
        )
        .exists()
        .label("confirmed"),
    )
    .join(Station, Station.id == Event.station_id)
    .join(Person, Person.id == bindparam("person_id"))
    .where(Event.id == bindparam("event_id"))
)


async def checkin_by_code(
    *, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal, data: CheckinIn
) -> CodeCheckin:
    """A logged-in volunteer scanned the event's code (``POST /checkins``, the volunteer pages).

    The code is verified without the database (a forged one costs no query); one query reads the
    event, its zone and the volunteer's sign-up; ``scan`` writes the row and its outbox event."""
    now = clock.now()
    event_id = tokens.event_id_of(_secret(settings), data.token, now=now)
    tokens.check_event_matches(event_id, data.event_id)
    if principal.person_id is None:
        raise Forbidden(
            "只有关联了志愿者档案的账号才能扫码签到",
            "Only accounts linked to a person can check in",
            code="not_a_volunteer",
        )
    row = (await session.execute(_CONTEXT, {"event_id": event_id, "person_id": principal.person_id})).first()
    if row is None:
        raise not_found("活动", "event", event_id)
    event, timezone, person_name, confirmed = row
    annotate_request(station_id=event.station_id)
    require_open(event)
    tokens.check_window(event, now)
    if not confirmed:
        raise not_signed_up(principal.person_id)
    result = await scan(
        session=session,
        clock=clock,
        event=event,
        person_id=principal.person_id,
        recorded_by=principal.user_id,
        walk_in=False,
    )
    return CodeCheckin(result, event, person_name, ZoneInfo(timezone))


async def organizer_scan(
    *,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    principal: Principal,
    event_id: int,
    data: ScanIn,
) -> ScanResult:
    """An organizer scanned a person's own code at the door (``POST /events/{id}/scan``)."""
    event = await load_event(session, principal, event_id)
    now = clock.now()
    person_id = (
        await person_by_code(session, _secret(settings), data.token, now=now, principal=principal)
    ).id
    require_open(event)
    tokens.check_window(event, now)
    confirmed = await is_confirmed(session, event.id, person_id)
    if not confirmed and not data.walk_in:
        raise not_signed_up(person_id)
    return await scan(
        session=session,
        clock=clock,
        event=event,
        person_id=person_id,
        recorded_by=principal.user_id,
        walk_in=not confirmed,
    )


async def scan(
    *, session: AsyncSession, clock: Clock, event: Event, person_id: int, recorded_by: int, walk_in: bool
) -> ScanResult:
    now = clock.now()
    row, created = await claim(
        session,
        new_row_values(
            event,
            clock,
            person_id=person_id,
            status=AttendanceStatus.present,
            method=AttendanceMethod.qr,
            recorded_by=recorded_by,
            checked_in_at=now,
            walk_in=walk_in,
        ),
    )
    if created:
        await announce(session, clock, row, before=None, changed_by=recorded_by)
        return ScanResult("checked_in", row)
    before = snapshot(row)
    action = _next_action(row, now)
    if action == "checked_in":
        _check_in(row, now)
    elif action == "checked_out":
        row.checked_out_at = now
    refresh_minutes(event, row)
    await announce(session, clock, row, before=before, changed_by=recorded_by)
    return ScanResult(action, row)


def _next_action(row: Attendance, now: datetime) -> CheckinAction:
    # Absent, no-show or a self-report still waiting: the scan is the first real evidence.
    if row.status not in ATTENDED_STATUSES or row.checked_in_at is None or not row.approved:
        return "checked_in"
    if row.checked_out_at is None and now - row.checked_in_at >= REPEAT_SCAN_GAP:
        return "checked_out"
    return "unchanged"


def _check_in(row: Attendance, now: datetime) -> None:
    if not row.approved:  # a pending self-report is replaced by the scan
        row.method = AttendanceMethod.qr
        row.approved = True
    if row.status not in ATTENDED_STATUSES:
        row.status = AttendanceStatus.present
    row.checked_in_at = now
    if row.checked_out_at is not None and row.checked_out_at < now:
        row.checked_out_at = None
