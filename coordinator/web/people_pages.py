"""Volunteers and the residents ledger: searchable lists, edit forms, spreadsheet import."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from coordinator.db import transaction
from coordinator.deps import SessionDep
from coordinator.errors import CoordinatorError, Invalid
from coordinator.fields import Id
from coordinator.people import importing, residents, service
from coordinator.people.models import Person, Resident
from coordinator.people.schemas import PersonCreate, PersonUpdate, ResidentUpdate
from coordinator.people.vocabularies import load_vocabulary
from coordinator.people.vocabulary import CATEGORIES
from coordinator.web.context import (
    FormDep,
    StaffDep,
    act,
    clock_of,
    error_flash,
    redirect,
    render,
    sessionmaker_of,
    settings_of,
)
from coordinator.web.scope import checkbox, integer, optional_text, pick_station, stations_of, text

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _codes(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


@router.get("/web/people", response_class=HTMLResponse)
async def people_list(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    station: Id | None = None,
    q: str = "",
    skill: str = "",
    party: str = "",
    cursor: str | None = None,
) -> HTMLResponse:
    current = await pick_station(session, viewer, station)
    filters = service.PersonFilters(
        station_id=current.id,
        q=q or None,
        skill=skill or None,
        party_member=True if party == "1" else False if party == "0" else None,
    )
    rows, next_cursor = await service.list_people(
        session=session, principal=viewer.principal, filters=filters, limit=PAGE_SIZE, cursor=cursor
    )
    return render(
        request,
        "people.html",
        viewer,
        station=current,
        stations=await stations_of(session, viewer),
        people=rows,
        next_cursor=next_cursor,
        q=q,
        skill=skill,
        party=party,
        vocabulary=await load_vocabulary(session=session, station_id=current.id),
    )


@router.get("/web/people/new", response_class=HTMLResponse)
@router.get("/web/people/{person_id}/edit", response_class=HTMLResponse)
async def person_form(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    person_id: Id | None = None,
    station: Id | None = None,
) -> HTMLResponse:
    person: Person | None = None
    if person_id is not None:
        person = await service.get_person(session=session, principal=viewer.principal, person_id=person_id)
        station = person.station_id
    current = await pick_station(session, viewer, station)
    return render(
        request,
        "person_edit.html",
        viewer,
        person=person,
        station=current,
        vocabulary=await load_vocabulary(session=session, station_id=current.id),
        skills=set(person.codes("skill")) if person else set(),
        languages=set(person.codes("language")) if person else set(),
    )


def _person_fields(form: FormData) -> dict[str, object]:
    return {
        "name": text(form, "name"),
        "phone": text(form, "phone"),
        "is_party_member": checkbox(form, "is_party_member"),
        "party_branch": optional_text(form, "party_branch"),
        "is_social_worker": checkbox(form, "is_social_worker"),
        "skills": _codes(form, "skills"),
        "languages": _codes(form, "languages"),
    }


@router.post("/web/people/new")
async def create_person(request: Request, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Person:
        current = await pick_station(session, viewer, integer(form, "station_id", default=0) or None)
        data = PersonCreate.model_validate({"station_id": current.id, **_person_fields(form)})
        return await service.create_person(
            session=session, clock=clock_of(request), principal=viewer.principal, data=data
        )

    return await act(
        request,
        work,
        back=f"/web/people/new?station={text(form, 'station_id')}",
        done=lambda p: f"/web/people?station={p.station_id}",
        flash="event.saved",
    )


@router.post("/web/people/{person_id}/edit")
async def save_person(request: Request, person_id: Id, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Person:
        data = PersonUpdate.model_validate({**_person_fields(form), "is_active": checkbox(form, "is_active")})
        return await service.update_person(
            session=session,
            clock=clock_of(request),
            principal=viewer.principal,
            person_id=person_id,
            data=data,
        )

    return await act(
        request,
        work,
        back=f"/web/people/{person_id}/edit",
        done=lambda p: f"/web/people?station={p.station_id}",
        flash="event.saved",
    )


@router.get("/web/residents", response_class=HTMLResponse)
async def residents_list(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    station: Id | None = None,
    q: str = "",
    category: str = "",
    cursor: str | None = None,
) -> HTMLResponse:
    current = await pick_station(session, viewer, station)
    filters = residents.ResidentFilters(station_id=current.id, q=q or None, category=category or None)
    rows, next_cursor = await residents.list_residents(
        session=session, principal=viewer.principal, filters=filters, limit=PAGE_SIZE, cursor=cursor
    )
    return render(
        request,
        "residents.html",
        viewer,
        station=current,
        stations=await stations_of(session, viewer),
        residents=rows,
        next_cursor=next_cursor,
        q=q,
        category=category,
        categories=CATEGORIES.terms,
        sees_personal=viewer.principal.sees_personal_data(current.id),
    )


@router.get("/web/residents/{resident_id}/edit", response_class=HTMLResponse)
async def resident_form(
    request: Request, resident_id: Id, viewer: StaffDep, session: SessionDep
) -> HTMLResponse:
    resident = await residents.get_resident(
        session=session, principal=viewer.principal, resident_id=resident_id
    )
    return render(request, "resident_edit.html", viewer, resident=resident, categories=CATEGORIES.terms)


@router.post("/web/residents/{resident_id}/edit")
async def save_resident(
    request: Request, resident_id: Id, viewer: StaffDep, form: FormDep
) -> RedirectResponse:
    async def work(session: AsyncSession) -> Resident:
        data = ResidentUpdate(
            name=text(form, "name"),
            categories=_codes(form, "categories"),
            address=optional_text(form, "address"),
            household=optional_text(form, "household"),
            notes=optional_text(form, "notes"),
            is_active=checkbox(form, "is_active"),
        )
        return await residents.update_resident(
            session=session,
            clock=clock_of(request),
            principal=viewer.principal,
            resident_id=resident_id,
            data=data,
        )

    return await act(
        request,
        work,
        back=f"/web/residents/{resident_id}/edit",
        done=lambda r: f"/web/residents?station={r.station_id}",
        flash="event.saved",
    )


@router.get("/web/{kind}/import", response_class=HTMLResponse)
async def import_form(
    request: Request,
    kind: importing.ImportKind,
    viewer: StaffDep,
    session: SessionDep,
    station: Id | None = None,
) -> HTMLResponse:
    current = await pick_station(session, viewer, station)
    return render(request, "import.html", viewer, kind=kind, station=current, result=None)


@router.post("/web/{kind}/import", response_model=None)
async def import_file(
    request: Request, kind: importing.ImportKind, viewer: StaffDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    """All or nothing unless "skip rows with errors" is ticked; every refused row is listed."""
    settings = settings_of(request)
    upload = form.get("file")
    back = f"/web/{kind}/import?station={text(form, 'station_id')}"
    partial = checkbox(form, "partial")
    try:
        if not isinstance(upload, StarletteUpload):
            raise Invalid("请选择文件", "Choose a file", code="file_missing", field="file")
        content = await importing.read_upload(upload, settings.import_max_bytes)
        async with transaction(sessionmaker_of(request)) as session:
            current = await pick_station(session, viewer, integer(form, "station_id", default=0) or None)
        result = await importing.import_records(
            kind=kind,
            sessionmaker=sessionmaker_of(request),
            clock=clock_of(request),
            principal=viewer.principal,
            settings=settings,
            station_id=current.id,
            content=content,
            partial=partial,
        )
    except CoordinatorError as exc:
        return redirect(request, back, error_flash(exc))
    return render(request, "import.html", viewer, kind=kind, station=current, result=result, partial=partial)
