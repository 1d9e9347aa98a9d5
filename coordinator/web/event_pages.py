"""The organizer's activity page and its lifecycle: edit, publish, reschedule, cancel."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.deps import SessionDep
from coordinator.events import lifecycle, service
from coordinator.events.models import Event
from coordinator.events.schemas import EventUpdate
from coordinator.fields import Id
from coordinator.matching.schemas import MatchOut
from coordinator.matching.service import propose_for_event
from coordinator.web.context import FormDep, StaffDep, act, clock_of, render, settings_of
from coordinator.web.event_staffing import router as staffing_router
from coordinator.web.event_view import load_event_view
from coordinator.web.scope import local_datetime, optional_text, text

router = APIRouter(include_in_schema=False)
router.include_router(staffing_router)


@router.get("/web/events/{event_id}", response_class=HTMLResponse)
async def event_page(
    request: Request,
    event_id: Id,
    viewer: StaffDep,
    session: SessionDep,
    match: bool = False,
    resident: Annotated[str, Query(max_length=60)] = "",
) -> HTMLResponse:
    """``resident`` searches the ledger by name for the residents-served list."""
    view = await load_event_view(
        session,
        viewer,
        event_id,
        settings=settings_of(request),
        clock=clock_of(request),
        resident_search=resident,
    )
    proposals: MatchOut | None = None
    if match:
        proposals = await propose_for_event(
            session=session, clock=clock_of(request), principal=viewer.principal, event_id=event_id
        )
    return render(request, "event.html", viewer, view=view, proposals=proposals)


@router.get("/web/events/{event_id}/edit", response_class=HTMLResponse)
async def edit_form(request: Request, event_id: Id, viewer: StaffDep, session: SessionDep) -> HTMLResponse:
    event = await service.get_event_for(session, viewer.principal, event_id)
    zone = ZoneInfo((await service.load_event(session, event.id))[1])
    return render(request, "event_edit.html", viewer, event=event, zone=zone)


async def _locked(session: AsyncSession, principal: Principal, event_id: int) -> Event:
    """The event row locked for the change (as the API's routes do)."""
    principal.require_staff()
    return await service.get_event_for(session, principal, event_id, for_update=True)


@router.post("/web/events/{event_id}/edit")
async def save_edit(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Event:
        event = await _locked(session, viewer.principal, event_id)
        data = EventUpdate(
            title=text(form, "title") or event.title,
            location=optional_text(form, "location"),
            description=optional_text(form, "description"),
        )
        return await service.update_event(session, clock_of(request), event=event, data=data)

    page = f"/web/events/{event_id}"
    return await act(request, work, back=f"{page}/edit", done=page, flash="event.saved")


@router.post("/web/events/{event_id}/publish")
async def publish(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Event:
        event = await _locked(session, viewer.principal, event_id)
        return await service.publish_event(session, clock_of(request), event=event)

    return await act(request, work, back=f"/web/events/{event_id}", flash="event.published")


@router.post("/web/events/{event_id}/reschedule")
async def reschedule(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Event:
        event = await _locked(session, viewer.principal, event_id)
        zone = ZoneInfo((await service.load_event(session, event.id))[1])
        starts_at = local_datetime(text(form, "date"), text(form, "time"), zone)
        return await lifecycle.reschedule_event(session, clock_of(request), event=event, starts_at=starts_at)

    return await act(request, work, back=f"/web/events/{event_id}", flash="event.rescheduled")


@router.get("/web/events/{event_id}/cancel", response_class=HTMLResponse)
async def cancel_preview(
    request: Request, event_id: Id, viewer: StaffDep, session: SessionDep
) -> HTMLResponse:
    """Who will be told: the confirmed people (the cancellation handler notifies exactly them)."""
    view = await load_event_view(
        session, viewer, event_id, settings=settings_of(request), clock=clock_of(request)
    )
    return render(request, "event_cancel.html", viewer, view=view)


@router.post("/web/events/{event_id}/cancel")
async def cancel(request: Request, event_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Event:
        event = await _locked(session, viewer.principal, event_id)
        reason = optional_text(form, "reason")
        return await lifecycle.cancel_event(session, clock_of(request), event=event, reason=reason)

    page = f"/web/events/{event_id}"
    return await act(request, work, back=f"{page}/cancel", done=page, flash="event.cancelled")
