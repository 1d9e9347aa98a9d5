"""Routes of home visits: policies, check-list, the due list, visit records and follow-ups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id, Line
from coordinator.pagination import CursorQuery
from coordinator.stations.service import get_station
from coordinator.stats.periods import local_date
from coordinator.stats.service import DEFAULT_ZONE
from coordinator.visits import policies, records
from coordinator.visits.due import DueFilters
from coordinator.visits.itineraries import itinerary_stops, publish_itinerary
from coordinator.visits.planning import plan_visits
from coordinator.visits.schemas import (
    ChecklistIn,
    ChecklistItem,
    ChecklistOut,
    DueListOut,
    FollowUpOut,
    ItineraryCreatedOut,
    ItineraryIn,
    ItineraryStopsOut,
    PlanIn,
    PlanOut,
    PoliciesIn,
    PoliciesOut,
    VisitIn,
    VisitOut,
)
from coordinator.visits.service import due_page
from coordinator.visits.shaping import due_out, follow_up_out, itinerary_stop_out, plan_out, visit_out
from coordinator.visits.sheet import sheet_attachment

router = APIRouter(prefix="/visits", tags=["visits"], responses=ERROR_RESPONSES)

StationId = Annotated[Id, Query(description="The station")]


@router.get("/policies", response_model=PoliciesOut, summary="Days between visits per ledger category")
async def get_policies(session: SessionDep, principal: PrincipalDep, station_id: StationId) -> PoliciesOut:
    found = await policies.get_policies(session=session, principal=principal, station_id=station_id)
    return PoliciesOut(station_id=station_id, policies=found)


@router.put("/policies", response_model=PoliciesOut, summary="Replace the station's visit policies (heads)")
async def put_policies(
    data: PoliciesIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep, station_id: StationId
) -> PoliciesOut:
    stored = await policies.put_policies(
        session=session, clock=clock, principal=principal, station_id=station_id, intervals=data.policies
    )
    return PoliciesOut(station_id=station_id, policies=stored)


@router.get("/checklist", response_model=ChecklistOut, summary="The living conditions a visit checks")
async def get_checklist(session: SessionDep, principal: PrincipalDep, station_id: StationId) -> ChecklistOut:
    items = await policies.get_checklist(session=session, principal=principal, station_id=station_id)
    return ChecklistOut(station_id=station_id, items=[ChecklistItem(**item) for item in items])


@router.put("/checklist", response_model=ChecklistOut, summary="Replace the station's check-list (heads)")
async def put_checklist(
    data: ChecklistIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep, station_id: StationId
) -> ChecklistOut:
    items = await policies.put_checklist(
        session=session,
        clock=clock,
        principal=principal,
        station_id=station_id,
        items=[item.model_dump() for item in data.items],
    )
    return ChecklistOut(station_id=station_id, items=[ChecklistItem(**item) for item in items])


@router.get("/due", response_model=DueListOut, summary="Residents overdue or due a visit within N days")
async def get_due(
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    station_id: Annotated[
        Id | None, Query(description="Only this station (default: every station seen)")
    ] = None,
    within_days: Annotated[int, Query(ge=0, le=366, description="Due within this many days")] = 14,
    category: Annotated[Line | None, Query(max_length=30)] = None,
    area: Annotated[Line | None, Query(max_length=60, description="Village group (组/村)")] = None,
    overdue_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
    cursor: CursorQuery = None,
) -> DueListOut:
    filters = DueFilters(within_days=within_days, category=category, area=area, overdue_only=overdue_only)
    page = await due_page(
        session=session,
        clock=clock,
        principal=principal,
        station_id=station_id,
        filters=filters,
        limit=limit,
        cursor=cursor,
    )
    return DueListOut(
        items=[due_out(r, principal) for r in page.items], total=page.total, next_cursor=page.next_cursor
    )


@router.post(
    "/records", response_model=VisitOut, status_code=status.HTTP_201_CREATED, summary="Record one visit"
)
async def post_visit(
    data: VisitIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> VisitOut:
    record = await records.record_visit(session=session, clock=clock, principal=principal, data=data)
    station = await get_station(session=session, principal=principal, station_id=record.station_id)
    return visit_out(record, local_date(clock.now(), station.timezone))


@router.get("/records", response_model=list[VisitOut], summary="A resident's or an itinerary's visits")
async def get_visits(
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    resident_id: Annotated[Id | None, Query()] = None,
    event_id: Annotated[Id | None, Query()] = None,
) -> list[VisitOut]:
    found = await records.list_visits(
        session=session, principal=principal, resident_id=resident_id, event_id=event_id
    )
    today = local_date(clock.now(), DEFAULT_ZONE)
    return [visit_out(record, today) for record in found]


@router.post("/follow-ups/{follow_up_id}/done", response_model=FollowUpOut, summary="Mark a follow-up done")
async def follow_up_done(
    follow_up_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> FollowUpOut:
    done = await records.complete_follow_up(
        session=session, clock=clock, principal=principal, follow_up_id=follow_up_id
    )
    return follow_up_out(done, local_date(clock.now(), DEFAULT_ZONE))


@router.post("/plan", response_model=PlanOut, summary="Proposed itineraries for the dates (stores nothing)")
async def post_plan(data: PlanIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> PlanOut:
    return plan_out(await plan_visits(session=session, clock=clock, principal=principal, data=data))


@router.post(
    "/itineraries",
    response_model=ItineraryCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Publish an itinerary: a home_visit event with its residents, its visitors invited or confirmed",
)
async def post_itinerary(
    data: ItineraryIn, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: PrincipalDep
) -> ItineraryCreatedOut:
    published = await publish_itinerary(
        session=session, clock=clock, settings=settings, principal=principal, data=data
    )
    return ItineraryCreatedOut(
        event_id=published.event.id,
        status=published.event.status,
        resident_ids=published.resident_ids,
        visitors=published.visitors,
    )


@router.get("/itineraries/{event_id}", response_model=ItineraryStopsOut, summary="An itinerary's residents")
async def get_itinerary(
    event_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ItineraryStopsOut:
    event, stops = await itinerary_stops(session=session, clock=clock, principal=principal, event_id=event_id)
    return ItineraryStopsOut(event_id=event.id, stops=[itinerary_stop_out(s) for s in stops])


@router.get(
    "/itineraries/{event_id}/sheet.pdf",
    summary="入户走访记录表: the printable visit sheet (A4)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The visit sheet"}},
)
async def get_sheet(event_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> Response:
    return await sheet_attachment(session=session, clock=clock, principal=principal, event_id=event_id)
