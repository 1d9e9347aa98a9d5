"""Routes of attendance: QR codes and scans, rosters, offline batches, reviews, residents served."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from coordinator.attendance import batch, checkin, review, roster, served, tokens
from coordinator.attendance.batch_schemas import BatchIn, BatchOut
from coordinator.attendance.person_codes import revoke_code
from coordinator.attendance.qr import QrFormat, qr_answer, scan_url
from coordinator.attendance.recording import load_event, require_open
from coordinator.attendance.schemas import (
    ApproveIn,
    AttendanceOut,
    AttendancePatch,
    AuditOut,
    CheckinIn,
    CheckinOut,
    QrCodeOut,
    RosterIn,
    RosterOut,
    ScanIn,
    SelfReportIn,
    ServedIn,
    ServedOut,
)
from coordinator.attendance.shaping import attendance_out, attendance_row_out, audit_out, one_attendance_out
from coordinator.clock import Clock
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.people.service import get_person
from coordinator.people.shaping import station_zones
from coordinator.settings import Settings

router = APIRouter(tags=["attendance"], responses=ERROR_RESPONSES)

FormatQuery = Annotated[QrFormat, Query(alias="format", description="json (default), or the image itself")]
_IMAGES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The token and QR, or the image"}
}


@router.get(
    "/events/{event_id}/checkin-code",
    response_model=QrCodeOut,
    responses=_IMAGES,
    summary="The event's check-in QR code (staff)",
)
async def get_checkin_code(
    event_id: Id,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    fmt: FormatQuery = QrFormat.json,
) -> QrCodeOut | Response:
    """A signed token valid from one hour before the start to the end, its link, and its QR."""
    event = await load_event(session, principal, event_id)
    require_open(event)
    token = tokens.checkin_token(settings.secret_key.get_secret_value(), event, now=clock.now())
    window = tokens.checkin_window(event)
    zone = (await station_zones(session, [event.station_id]))[event.station_id]
    return qr_answer(
        token,
        scan_url(settings, "checkin", token),
        fmt,
        event_id=event.id,
        opens_at=window.opens_at.astimezone(zone),
        closes_at=window.closes_at.astimezone(zone),
    )


@router.post("/checkins", response_model=CheckinOut, summary="Scan an event's code: check in, then out")
async def post_checkin(
    data: CheckinIn, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep
) -> CheckinOut:
    result = await checkin.checkin_by_code(
        session=session, clock=clock, settings=settings, principal=principal, data=data
    )
    return CheckinOut(
        action=result.scan.action,
        attendance=attendance_row_out(result.scan.attendance, result.person_name, result.zone),
    )


@router.get(
    "/people/{person_id}/qr",
    response_model=QrCodeOut,
    responses=_IMAGES,
    summary="A person's own QR code, for organizers to scan",
)
async def get_person_qr(
    person_id: Id,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    fmt: FormatQuery = QrFormat.json,
) -> QrCodeOut | Response:
    person = await get_person(session=session, principal=principal, person_id=person_id)
    return _person_qr(settings, clock, person.id, person.qr_token_version, fmt)


@router.post(
    "/people/{person_id}/qr/revoke",
    response_model=QrCodeOut,
    responses=_IMAGES,
    summary="Revoke a person's QR code (lost phone, shared picture) and answer the new one",
)
async def post_person_qr_revoke(
    person_id: Id,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    fmt: FormatQuery = QrFormat.json,
) -> QrCodeOut | Response:
    """Staff of the person's station, or the volunteer themself; every earlier copy stops working."""
    person = await get_person(session=session, principal=principal, person_id=person_id)
    version = await revoke_code(session, person.id)
    return _person_qr(settings, clock, person.id, version, fmt)


def _person_qr(
    settings: Settings, clock: Clock, person_id: int, version: int, fmt: QrFormat
) -> QrCodeOut | Response:
    secret = settings.secret_key.get_secret_value()
    token = tokens.person_token(secret, person_id, version=version, now=clock.now())
    return qr_answer(token, scan_url(settings, "scan", token), fmt, person_id=person_id)


@router.post("/events/{event_id}/scan", response_model=CheckinOut, summary="Scan a person's code (staff)")
async def post_scan(
    event_id: Id,
    data: ScanIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> CheckinOut:
    result = await checkin.organizer_scan(
        session=session, clock=clock, settings=settings, principal=principal, event_id=event_id, data=data
    )
    return CheckinOut(action=result.action, attendance=await one_attendance_out(session, result.attendance))


@router.post(
    "/events/{event_id}/attendance", response_model=RosterOut, summary="Record the roster (idempotent)"
)
async def post_roster(
    event_id: Id, data: RosterIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> RosterOut:
    result = await roster.record_roster(
        session=session, clock=clock, principal=principal, event_id=event_id, data=data
    )
    return RosterOut(
        items=await attendance_out(session, result.rows),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )


@router.get(
    "/events/{event_id}/attendance", response_model=Page[AttendanceOut], summary="An event's attendance"
)
async def list_attendance(
    event_id: Id,
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[AttendanceOut]:
    rows, next_cursor = await review.list_event_attendance(
        session=session, principal=principal, event_id=event_id, limit=limit, cursor=cursor
    )
    return Page(items=await attendance_out(session, rows), next_cursor=next_cursor)


@router.post("/attendance/batch", response_model=BatchOut, summary="Upload scans recorded offline")
async def post_batch(
    data: BatchIn, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep
) -> BatchOut:
    results = await batch.apply_batch(
        session=session, clock=clock, settings=settings, principal=principal, data=data
    )
    return BatchOut(results=results)


@router.post(
    "/events/{event_id}/self-report",
    status_code=status.HTTP_201_CREATED,
    response_model=AttendanceOut,
    summary="Report one's own attendance (waits for approval)",
)
async def post_self_report(
    event_id: Id, data: SelfReportIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> AttendanceOut:
    row = await review.self_report(
        session=session, clock=clock, principal=principal, event_id=event_id, data=data
    )
    return await one_attendance_out(session, row)


@router.get("/attendance/{attendance_id}", response_model=AttendanceOut, summary="One attendance record")
async def get_attendance(attendance_id: Id, session: SessionDep, principal: PrincipalDep) -> AttendanceOut:
    row = await review.get_attendance(session=session, principal=principal, attendance_id=attendance_id)
    return await one_attendance_out(session, row)


@router.patch(
    "/attendance/{attendance_id}", response_model=AttendanceOut, summary="Correct a record (staff, audited)"
)
async def patch_attendance(
    attendance_id: Id, data: AttendancePatch, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> AttendanceOut:
    row = await review.correct(
        session=session, clock=clock, principal=principal, attendance_id=attendance_id, data=data
    )
    return await one_attendance_out(session, row)


@router.post(
    "/attendance/{attendance_id}/approve", response_model=AttendanceOut, summary="Approve a self-report"
)
async def approve_attendance(
    attendance_id: Id,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    data: ApproveIn | None = None,
) -> AttendanceOut:
    row = await review.approve(
        session=session,
        clock=clock,
        principal=principal,
        attendance_id=attendance_id,
        data=data or ApproveIn(),
    )
    return await one_attendance_out(session, row)


@router.get(
    "/attendance/{attendance_id}/audit", response_model=list[AuditOut], summary="A record's change history"
)
async def get_audit(attendance_id: Id, session: SessionDep, principal: PrincipalDep) -> list[AuditOut]:
    entries = await review.audit_trail(session=session, principal=principal, attendance_id=attendance_id)
    return [audit_out(e) for e in entries]


def _served_out(result: served.Served) -> ServedOut:
    return ServedOut(
        event_id=result.event_id,
        resident_ids=result.resident_ids,
        headcount=result.headcount,
        added=result.added,
    )


@router.post("/events/{event_id}/served", response_model=ServedOut, summary="Record residents served")
async def post_served(
    event_id: Id, data: ServedIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ServedOut:
    result = await served.record_served(
        session=session, clock=clock, principal=principal, event_id=event_id, data=data
    )
    return _served_out(result)


@router.get("/events/{event_id}/served", response_model=ServedOut, summary="Residents an event served")
async def get_served(event_id: Id, session: SessionDep, principal: PrincipalDep) -> ServedOut:
    return _served_out(await served.served_by(session=session, principal=principal, event_id=event_id))


@router.delete(
    "/events/{event_id}/served/{resident_id}",
    response_model=ServedOut,
    summary="Remove a resident recorded by mistake",
)
async def delete_served(
    event_id: Id, resident_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ServedOut:
    result = await served.remove_served(
        session=session, clock=clock, principal=principal, event_id=event_id, resident_id=resident_id
    )
    return _served_out(result)
