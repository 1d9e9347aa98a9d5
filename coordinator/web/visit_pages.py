"""Staff pages of home visits: plan a day's rounds and publish them, an itinerary's residents,
and the phone-sized page a visitor records a visit on at the door."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.deps import SessionDep
from coordinator.errors import CoordinatorError
from coordinator.fields import Id, parse_day
from coordinator.matching.schemas import ApplyMode
from coordinator.visits.due import DueFilters, due_residents
from coordinator.visits.itineraries import Published, itinerary_stops, publish_itinerary
from coordinator.visits.models import VisitOutcome, VisitRecord
from coordinator.visits.planning import plan_visits
from coordinator.visits.policies import checklist
from coordinator.visits.records import record_visit
from coordinator.visits.schemas import NEEDS, FollowUpIn, ItineraryIn, ItineraryVisitor, PlanIn, VisitIn
from coordinator.visits.shaping import plan_out
from coordinator.visits.sheet import sheet_attachment
from coordinator.web.context import (
    FormDep,
    StaffDep,
    act,
    clock_of,
    error_flash,
    redirect,
    render,
    settings_of,
)
from coordinator.web.scope import integer, optional_text, pick_station, stations_of, text

router = APIRouter(include_in_schema=False)
DUE_DAYS = 14


@router.get("/web/visits", response_class=HTMLResponse)
async def plan_page(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    station: Id | None = None,
    day: Annotated[str, Query(alias="date")] = "",
) -> Response:
    current = await pick_station(session, viewer, station)
    clock = clock_of(request)
    due = await due_residents(session, [current], now=clock.now(), filters=DueFilters(within_days=DUE_DAYS))
    chosen = parse_day(day, field="date")
    plan = None
    if chosen is not None:
        try:
            data = PlanIn(station_id=current.id, dates=[chosen])
            plan = plan_out(
                await plan_visits(session=session, clock=clock, principal=viewer.principal, data=data)
            )
        except CoordinatorError as exc:
            return redirect(request, f"/web/visits?station={current.id}", error_flash(exc))
    tomorrow = clock.now().astimezone(ZoneInfo(current.timezone)).date() + timedelta(days=1)
    return render(
        request,
        "visits_plan.html",
        viewer,
        station=current,
        stations=await stations_of(session, viewer),
        due=due,
        overdue=sum(1 for r in due if r.days_overdue),
        due_days=DUE_DAYS,
        day=chosen or tomorrow,
        plan=plan,
    )


@router.post("/web/visits/publish")
async def publish(request: Request, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    station_id = integer(form, "station_id")
    visitors = [
        ItineraryVisitor(person_id=int(text(form, role)), role=role)
        for role in ("lead", "companion")
        if text(form, role).isdigit()
    ]

    async def work(session: AsyncSession) -> Published:
        data = ItineraryIn(
            station_id=station_id,
            starts_at=text(form, "starts_at"),
            ends_at=text(form, "ends_at"),
            area=text(form, "area"),
            resident_ids=[int(x) for x in text(form, "resident_ids").split(",") if x.isdigit()],
            visitors=visitors,
            mode=ApplyMode(text(form, "mode") or "invite"),
        )
        return await publish_itinerary(
            session=session,
            clock=clock_of(request),
            settings=settings_of(request),
            principal=viewer.principal,
            data=data,
        )

    return await act(
        request,
        work,
        back=f"/web/visits?station={station_id}",
        done=lambda p: f"/web/visits/itineraries/{p.event.id}",
        flash="visits.published",
    )


async def _recorded(session: AsyncSession, event_id: int) -> dict[int, str]:
    rows = await session.execute(
        select(VisitRecord.resident_id, VisitRecord.outcome).where(VisitRecord.event_id == event_id)
    )
    return {rid: outcome for rid, outcome in rows}


@router.get("/web/visits/itineraries/{event_id}", response_class=HTMLResponse)
async def itinerary_page(
    request: Request, event_id: Id, viewer: StaffDep, session: SessionDep
) -> HTMLResponse:
    event, stops = await itinerary_stops(
        session=session, clock=clock_of(request), principal=viewer.principal, event_id=event_id
    )
    return render(
        request,
        "visit_itinerary.html",
        viewer,
        event=event,
        stops=stops,
        recorded=await _recorded(session, event.id),
    )


@router.get("/web/visits/itineraries/{event_id}/sheet.pdf")
async def sheet(request: Request, event_id: Id, viewer: StaffDep, session: SessionDep) -> Response:
    return await sheet_attachment(
        session=session, clock=clock_of(request), principal=viewer.principal, event_id=event_id
    )


@router.get("/web/visits/itineraries/{event_id}/record/{resident_id}", response_class=HTMLResponse)
async def record_page(
    request: Request, event_id: Id, resident_id: Id, viewer: StaffDep, session: SessionDep
) -> Response:
    event, stops = await itinerary_stops(
        session=session, clock=clock_of(request), principal=viewer.principal, event_id=event_id
    )
    stop = next((s for s in stops if s.resident.id == resident_id), None)
    if stop is None:
        return redirect(request, f"/web/visits/itineraries/{event_id}")
    return render(
        request,
        "visit_record.html",
        viewer,
        event=event,
        stop=stop,
        needs=NEEDS,
        items=await checklist(session, event.station_id),
        outcomes=list(VisitOutcome),
        follow_up_due=(clock_of(request).now() + timedelta(days=7)).date(),
    )


@router.post("/web/visits/itineraries/{event_id}/record/{resident_id}")
async def save_record(
    request: Request, event_id: Id, resident_id: Id, viewer: StaffDep, form: FormDep
) -> RedirectResponse:
    async def work(session: AsyncSession) -> VisitRecord:
        event, _ = await itinerary_stops(
            session=session, clock=clock_of(request), principal=viewer.principal, event_id=event_id
        )
        items = await checklist(session, event.station_id)
        action = text(form, "follow_up")
        due = parse_day(text(form, "follow_up_due"), field="follow_up_due")
        follow_ups = [FollowUpIn(action=action, due_on=due)] if action else []
        data = VisitIn(
            resident_id=resident_id,
            event_id=event_id,
            outcome=VisitOutcome(text(form, "outcome") or "visited"),
            conditions={i["code"]: form.get(f"c_{i['code']}") == "on" for i in items},
            needs=[code for code in NEEDS if form.get(f"n_{code}") == "on"],
            notes=optional_text(form, "notes"),
            follow_ups=follow_ups,
        )
        return await record_visit(
            session=session, clock=clock_of(request), principal=viewer.principal, data=data
        )

    page = f"/web/visits/itineraries/{event_id}"
    return await act(request, work, back=f"{page}/record/{resident_id}", done=page, flash="visits.saved")
