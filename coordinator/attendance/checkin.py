"""QR scans: a volunteer scans the event's code, or an organizer scans the volunteer's own code.

The first scan checks in, the next one checks out, any later one changes nothing. A scan within
``REPEAT_SCAN_GAP`` of the check-in is a repeat (a shaky hand, a double tap), not a check-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select
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
from coordinator.auth.models import User
from coordinator.auth.principal import Principal
from coordinator.auth.service import account_disabled
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
class CheckinContext:
    """What a volunteer's check-in needs, read in one query: the account, its person, the event,
    its station's zone and whether the person holds a confirmed sign-up for it."""

    user_active: bool
    person_id: int | None
    person_name: str | None
    event: Event | None
    zone: ZoneInfo | None
    confirmed: bool


@dataclass(frozen=True)
class CodeCheckin:
    scan: ScanResult
    person_name: str
    zone: ZoneInfo


def _context_statement() -> Select[bool, int | None, str, str, bool, Event]:
    confirmed = (
        select(Signup.id)
        .where(
            Signup.event_id == bindparam("event_id"),
            Signup.person_id == User.person_id,
            Signup.status == SignupStatus.confirmed,
        )
        .exists()
    )
    return (
        select(
            User.is_active,
            User.person_id,
            Person.name,
            Station.timezone,
            confirmed.label("confirmed"),
            Event,
        )
        .select_from(User)
        .outerjoin(Person, Person.id == User.person_id)
        .outerjoin(Event, Event.id == bindparam("event_id"))
        .outerjoin(Station, Station.id == Event.station_id)
        .where(User.id == bindparam("user_id"))
    )


# Built once: SQLAlchemy reuses its compiled form and cache key on every check-in.
_CONTEXT_STATEMENT = _context_statement()


async def load_checkin_context(
    session: AsyncSession, *, user_id: int, event_id: int
) -> CheckinContext | None:
    """None when the user does not exist. The event (and its station) is outer-joined, so a
    missing event still tells us about the account."""
    result = await session.execute(_CONTEXT_STATEMENT, {"user_id": user_id, "event_id": event_id})
    row = result.one_or_none()
    if row is None:
        return None
    return CheckinContext(
        user_active=row.is_active,
        person_id=row.person_id,
        person_name=row.name,
        event=row.Event,
        zone=ZoneInfo(row.timezone) if row.timezone is not None else None,
        confirmed=bool(row.confirmed),
    )


async def checkin_by_code(
    *, session: AsyncSession, clock: Clock, settings: Settings, user_id: int, data: CheckinIn
) -> CodeCheckin:
    """A logged-in volunteer scanned the event's code (``POST /checkins``).

    The hot path of an event's opening minutes, so it reads once and writes once: the code is
    verified without the database (a forged one costs no query), one query reads the account,
    the person, the event, the station's zone and the sign-up (``load_checkin_context``), and
    ``scan`` inserts the row (its outbox event follows). ``user_id`` comes from a verified bearer
    token; that the account exists and is active is checked here."""
    now = clock.now()
    event_id = tokens.event_id_of(_secret(settings), data.token, now=now)
    tokens.check_event_matches(event_id, data.event_id)
    context = await load_checkin_context(session, user_id=user_id, event_id=event_id)
    if context is None or not context.user_active:
        raise account_disabled()
    if context.person_id is None or context.person_name is None:
        raise Forbidden(
            "只有关联了志愿者档案的账号才能扫码签到",
            "Only accounts linked to a person can check in",
            code="not_a_volunteer",
        )
    event = context.event
    if event is None or context.zone is None:
        raise not_found("活动", "event", event_id)
    annotate_request(station_id=event.station_id)
    require_open(event)
    tokens.check_window(event, now)
    if not context.confirmed:
        raise not_signed_up(context.person_id)
    result = await scan(
        session=session,
        clock=clock,
        event=event,
        person_id=context.person_id,
        recorded_by=user_id,
        walk_in=False,
    )
    return CodeCheckin(result, context.person_name, context.zone)


async def volunteer_checkin(
    *, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal, data: CheckinIn
) -> ScanResult:
    """``checkin_by_code`` for callers that already hold the principal (the volunteer web pages)."""
    result = await checkin_by_code(
        session=session, clock=clock, settings=settings, user_id=principal.user_id, data=data
    )
    return result.scan


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
    person_id = (await person_by_code(session, _secret(settings), data.token, now=now)).id
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
