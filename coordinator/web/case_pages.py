"""Staff pages of case files: a station's cases, one case with its entries and the forms that
change it, and a resident's timeline. They call the cases services, so who may read notes and
which reads are logged is decided in ``coordinator.cases`` alone.

A refused form answers the error page with the refusal's own 4xx status and message, and the
request's transaction rolls back: nothing of a refused change is stored."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.cases import service
from coordinator.cases.listing import case_lines
from coordinator.cases.models import CaseStatus, EntryKind
from coordinator.cases.schemas import CaseClose, CaseIn, CaseUpdate, EntryIn
from coordinator.cases.timeline import timeline
from coordinator.deps import SessionDep
from coordinator.fields import Id
from coordinator.people.models import Person
from coordinator.people.residents import ResidentFilters, get_resident, list_residents
from coordinator.people.service import PersonFilters, list_people
from coordinator.people.shaping import resident_out
from coordinator.stations.service import get_station
from coordinator.web.context import FormDep, StaffDep, Viewer, clock_of, ok, redirect, render
from coordinator.web.scope import integer, optional_text, pick_station, shaped, stations_of, text

router = APIRouter(include_in_schema=False)
CHOICES = 200  # residents and social workers offered in a form's list


async def _social_workers(session: AsyncSession, viewer: Viewer, station_id: int) -> list[Person]:
    filters = PersonFilters(station_id=station_id, social_worker=True, active=True)
    rows, _ = await list_people(
        session=session, principal=viewer.principal, filters=filters, limit=CHOICES, cursor=None
    )
    return rows


@router.get("/web/cases", response_class=HTMLResponse)
async def cases_list(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    station: Id | None = None,
    status: str = "",
    resident: Id | None = None,
) -> HTMLResponse:
    current = await pick_station(session, viewer, station)
    zone = ZoneInfo(current.timezone)
    chosen = CaseStatus(status) if status in CaseStatus.__members__ else None
    lines = await case_lines(
        session=session,
        principal=viewer.principal,
        station_id=current.id,
        zone=zone,
        now=clock_of(request).now(),
        status=chosen,
    )
    residents, _ = await list_residents(
        session=session,
        principal=viewer.principal,
        filters=ResidentFilters(station_id=current.id, active=True),
        limit=CHOICES,
        cursor=None,
    )
    if resident is not None and all(r.id != resident for r in residents):
        # Opened from a resident's row: offer them even beyond the first page of the ledger.
        residents.insert(
            0, await get_resident(session=session, principal=viewer.principal, resident_id=resident)
        )
    return render(
        request,
        "cases.html",
        viewer,
        station=current,
        stations=await stations_of(session, viewer),
        lines=lines,
        status=chosen.value if chosen else "",
        zone=zone,
        residents=residents,
        resident=resident,
        workers=await _social_workers(session, viewer, current.id),
    )


@router.post("/web/cases")
async def open_case(
    request: Request, viewer: StaffDep, session: SessionDep, form: FormDep
) -> RedirectResponse:
    data = shaped(
        CaseIn,
        resident_id=integer(form, "resident_id"),
        worker_person_id=integer(form, "worker_person_id"),
        title=text(form, "title"),
        assessment=optional_text(form, "assessment"),
        plan=optional_text(form, "plan"),
    )
    case = await service.open_case(
        session=session, clock=clock_of(request), principal=viewer.principal, data=data
    )
    return redirect(request, f"/web/cases/{case.id}", ok("cases.opened"))


@router.get("/web/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: Id, viewer: StaffDep, session: SessionDep) -> HTMLResponse:
    clock = clock_of(request)
    case, entries = await service.read_case(
        session=session, clock=clock, principal=viewer.principal, case_id=case_id
    )
    station = await get_station(session=session, principal=viewer.principal, station_id=case.station_id)
    zone = ZoneInfo(station.timezone)
    resident = await get_resident(session=session, principal=viewer.principal, resident_id=case.resident_id)
    return render(
        request,
        "case.html",
        viewer,
        case=case,
        entries=entries,
        resident=resident_out(resident, zone, viewer.principal, clock.now()),
        workers=await _social_workers(session, viewer, case.station_id),
        kinds=list(EntryKind),
        zone=zone,
    )


@router.post("/web/cases/{case_id}/entries")
async def add_entry(
    request: Request, case_id: Id, viewer: StaffDep, session: SessionDep, form: FormDep
) -> RedirectResponse:
    data = shaped(EntryIn, kind=text(form, "kind"), note=text(form, "note"))
    await service.add_entry(
        session=session, clock=clock_of(request), principal=viewer.principal, case_id=case_id, data=data
    )
    return redirect(request, f"/web/cases/{case_id}", ok("cases.entry_added"))


@router.post("/web/cases/{case_id}/edit")
async def change_case(
    request: Request, case_id: Id, viewer: StaffDep, session: SessionDep, form: FormDep
) -> RedirectResponse:
    data = shaped(
        CaseUpdate,
        worker_person_id=integer(form, "worker_person_id"),
        assessment=optional_text(form, "assessment"),
        plan=optional_text(form, "plan"),
    )
    await service.update_case(
        session=session, clock=clock_of(request), principal=viewer.principal, case_id=case_id, data=data
    )
    return redirect(request, f"/web/cases/{case_id}", ok("cases.saved"))


@router.post("/web/cases/{case_id}/close")
async def close_case(
    request: Request, case_id: Id, viewer: StaffDep, session: SessionDep, form: FormDep
) -> RedirectResponse:
    data = shaped(CaseClose, reason=text(form, "reason"))
    await service.close_case(
        session=session, clock=clock_of(request), principal=viewer.principal, case_id=case_id, data=data
    )
    return redirect(request, f"/web/cases/{case_id}", ok("cases.closed"))


@router.get("/web/residents/{resident_id}/timeline", response_class=HTMLResponse)
async def timeline_page(
    request: Request, resident_id: Id, viewer: StaffDep, session: SessionDep
) -> HTMLResponse:
    resident = await get_resident(session=session, principal=viewer.principal, resident_id=resident_id)
    station = await get_station(session=session, principal=viewer.principal, station_id=resident.station_id)
    found = await timeline(
        session=session, clock=clock_of(request), principal=viewer.principal, resident_id=resident_id
    )
    return render(
        request,
        "resident_timeline.html",
        viewer,
        resident=resident,
        timeline=found,
        zone=ZoneInfo(station.timezone),
    )
