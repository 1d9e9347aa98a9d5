"""Pages opened from a link or a code rather than from the menus: the answer page of an
invitation (no login: the signed token is the permission) and the organizer's scan of a
volunteer's own QR code."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance import checkin, tokens
from coordinator.attendance.person_codes import person_by_code
from coordinator.attendance.schemas import ScanIn
from coordinator.deps import SessionDep
from coordinator.events import roles, service
from coordinator.events.models import Event, EventStatus, Signup
from coordinator.events.signups import invitations
from coordinator.people.models import Person
from coordinator.web.context import FormDep, StaffDep, ViewerDep, act, clock_of, render, settings_of
from coordinator.web.scope import checkbox, integer, text

router = APIRouter(include_in_schema=False)
SCAN_EVENTS_LIMIT = 50


def _invitation_path(token: str) -> str:
    return f"/web/invitation?{urlencode({'token': token})}"


@router.get("/web/invitation", response_class=HTMLResponse)
async def invitation_page(
    request: Request, viewer: ViewerDep, session: SessionDep, token: str = ""
) -> HTMLResponse:
    signup = await invitations.read_invitation(session, clock_of(request), settings_of(request), token)
    event, zone = await service.load_event(session, signup.event_id)
    person = await session.get(Person, signup.person_id)
    return render(
        request,
        "invitation.html",
        viewer,
        signup=signup,
        event=event,
        zone=ZoneInfo(zone),
        person_name=person.name if person else "",
        role_name=(await roles.role_names(session, event, [signup.role_id])).get(signup.role_id, ""),
        token=token,
    )


@router.post("/web/invitation")
async def answer_invitation(request: Request, form: FormDep) -> RedirectResponse:
    token, answer = text(form, "token"), text(form, "answer")
    settings, clock = settings_of(request), clock_of(request)

    async def work(session: AsyncSession) -> Signup:
        if answer == "accept":
            return await invitations.accept(session, clock, settings, token)
        return await invitations.decline(session, clock, settings, token)

    return await act(
        request,
        work,
        back=_invitation_path(token),
        flash="m.accepted" if answer == "accept" else "m.declined",
    )


async def _scannable_events(
    session: AsyncSession, request: Request, station_id: int, viewer: StaffDep
) -> list[Event]:
    """Published events of the station whose check-in window is open now."""
    now = clock_of(request).now()
    filters = service.EventFilters(
        station_id=station_id,
        status=EventStatus.published,
        starts_from=now,
        starts_to=now + tokens.OPENS_BEFORE_START + timedelta(seconds=1),
    )
    events, _ = await service.list_events(
        session, viewer.principal, filters=filters, limit=SCAN_EVENTS_LIMIT, cursor=None
    )
    return [event for event in events if tokens.checkin_window(event).contains(now)]


@router.get("/web/scan", response_class=HTMLResponse)
async def scan_page(request: Request, viewer: StaffDep, session: SessionDep, token: str = "") -> HTMLResponse:
    settings, clock = settings_of(request), clock_of(request)
    person = await person_by_code(
        session, settings.secret_key.get_secret_value(), token, now=clock.now(), principal=viewer.principal
    )
    events = await _scannable_events(session, request, person.station_id, viewer)
    return render(request, "scan.html", viewer, person=person, events=events, token=token)


@router.post("/web/scan", response_model=None)
async def scan_submit(request: Request, viewer: StaffDep, form: FormDep) -> Response:
    token, event_id = text(form, "token"), integer(form, "event_id")

    async def work(session: AsyncSession) -> str:
        result = await checkin.organizer_scan(
            session=session,
            clock=clock_of(request),
            settings=settings_of(request),
            principal=viewer.principal,
            event_id=event_id,
            data=ScanIn(token=token, walk_in=checkbox(form, "walk_in")),
        )
        return str(result.action)

    return await act(
        request,
        work,
        back=f"/web/scan?{urlencode({'token': token})}",
        done=f"/web/events/{event_id}",
        flash=lambda action: f"m.{action}",
    )
