"""The door page of one activity: an installable page that records attendance without signal.

The page keeps itself, its scripts and the roster in the browser (``door-sw.js``), keeps every
record in IndexedDB until the server has it, and sends them here in chunks: the web twin of
``POST /api/v1/attendance/batch``, running the same service with the page's session."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance import batch
from coordinator.attendance.batch_schemas import BatchIn, BatchOut
from coordinator.attendance.recording import require_open
from coordinator.db import transaction
from coordinator.deps import SessionDep
from coordinator.errors import Forbidden
from coordinator.events import roles, service
from coordinator.events.models import Event, SignupStatus
from coordinator.events.signups import service as signups
from coordinator.events.signups.waitlist import waitlist_positions
from coordinator.fields import Id
from coordinator.masking import mask_phone
from coordinator.people.models import Person
from coordinator.web import session as cookies
from coordinator.web.context import StaffDep, Viewer, clock_of, render, sessionmaker_of, settings_of
from coordinator.web.static_files import STATIC_DIR, static_url

router = APIRouter(include_in_schema=False)

CSRF_HEADER = "X-CSRF-Token"
ROSTER_LIMIT = 500
# The door page films volunteers' codes; every other page keeps the camera off.
_CAMERA_POLICY = "camera=(self), microphone=(), geolocation=()"


async def _door_event(session: AsyncSession, viewer: Viewer, event_id: int) -> Event:
    event = await service.get_event_for(session, viewer.principal, event_id)
    require_open(event)
    return event


@router.get("/web/events/{event_id}/door", response_class=HTMLResponse)
async def door_page(request: Request, event_id: Id, viewer: StaffDep, session: SessionDep) -> HTMLResponse:
    event = await _door_event(session, viewer, event_id)
    zone = ZoneInfo((await service.load_event(session, event.id))[1])
    response = render(request, "door.html", viewer, event=event, zone=zone)
    response.headers["Permissions-Policy"] = _CAMERA_POLICY
    return response


@router.get("/web/events/{event_id}/door/roster")
async def door_roster(request: Request, event_id: Id, viewer: StaffDep, session: SessionDep) -> JSONResponse:
    """Confirmed and waiting people with their roles, phones masked; and the form token the
    page's uploads carry."""
    event = await _door_event(session, viewer, event_id)
    rows, _ = await signups.list_signups(
        session, event_id=event.id, status=None, role_id=None, limit=ROSTER_LIMIT, cursor=None
    )
    rows = [s for s in rows if s.status in (SignupStatus.confirmed, SignupStatus.waitlisted)]
    found = await session.scalars(select(Person).where(Person.id.in_({s.person_id for s in rows})))
    people = {p.id: p for p in found}
    waiting = [s.role_id for s in rows if s.status == SignupStatus.waitlisted]
    positions = await waitlist_positions(session, waiting)
    role_names = await roles.role_names(session, event, (s.role_id for s in rows))
    roster: list[dict[str, Any]] = [
        {
            "person_id": s.person_id,
            "name": people[s.person_id].name,
            "phone": mask_phone(people[s.person_id].phone),
            "role": role_names.get(s.role_id, ""),
            "status": s.status,
            "position": positions.get(s.id),
        }
        for s in rows
    ]
    roster.sort(key=lambda line: (line["status"] != SignupStatus.confirmed, line["position"] or 0))
    return with_form_token(request, {"event_id": event.id, "people": roster})


def with_form_token(request: Request, body: dict[str, Any]) -> JSONResponse:
    """The body with the form token that offline pages' uploads carry; never kept by HTTP caches."""
    csrf, _ = cookies.csrf_token(request)
    response = JSONResponse({**body, "csrf": csrf})
    response.headers["Cache-Control"] = "no-store"
    cookies.set_csrf_cookie(request, response, settings_of(request))
    return response


def require_form_token(request: Request) -> None:
    """A refused upload (logged out, bad form token) answers an error and the page keeps its records."""
    if not cookies.csrf_valid(request, request.headers.get(CSRF_HEADER)):
        raise Forbidden("表单已过期，请刷新页面", "The form expired: reload the page", code="csrf_failed")


@router.post("/web/door/batch")
async def door_batch(request: Request, data: BatchIn, viewer: StaffDep) -> BatchOut:
    require_form_token(request)
    async with transaction(sessionmaker_of(request)) as session:
        results = await batch.apply_batch(
            session=session,
            clock=clock_of(request),
            settings=settings_of(request),
            principal=viewer.principal,
            data=data,
        )
    return BatchOut(results=results)


@router.get("/web/events/{event_id}/door/manifest.webmanifest")
async def door_manifest(event_id: Id, viewer: StaffDep, session: SessionDep) -> JSONResponse:
    event = await _door_event(session, viewer, event_id)
    page = f"/web/events/{event.id}/door"
    manifest = {
        "name": f"签到 · {event.title}",
        "short_name": "签到",
        "start_url": page,
        "scope": page,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f6f43",
        "icons": [{"src": static_url("favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return JSONResponse(manifest, media_type="application/manifest+json")


@router.get("/web/door-sw.js")
async def door_service_worker() -> Response:
    """Served from /web/ (not /web/static/) so that it may control the door pages; never cached
    by HTTP, so a new version reaches phones on their next visit with signal."""
    response = FileResponse(STATIC_DIR / "door-sw.js", media_type="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
