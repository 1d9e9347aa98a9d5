from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES, ErrorEnvelope
from coordinator.fields import Id, Line
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.people import importing, residents, service, vocabularies
from coordinator.people.models import Person, Resident
from coordinator.people.schemas import (
    ImportResult,
    PersonCreate,
    PersonOut,
    PersonUpdate,
    ResidentCreate,
    ResidentOut,
    ResidentUpdate,
    TermCreate,
    TermOut,
    VocabularyOut,
)
from coordinator.people.shaping import person_out, resident_out, station_zones

router = APIRouter(responses=ERROR_RESPONSES)

UploadDep = Annotated[UploadFile, File(description="XLSX or CSV (UTF-8 or GBK) with a header row")]
StationForm = Annotated[Id, Form()]
PartialForm = Annotated[bool, Form(description="Store the good rows even when some rows fail")]
StationQuery = Annotated[Id | None, Query(description="Only this station")]
NameQuery = Annotated[Line | None, Query(max_length=60, description="Part of the name")]
ActiveQuery = Annotated[bool | None, Query(description="Only active (true) or inactive (false) records")]


def _add_import_route(kind: importing.ImportKind, *, tag: str, summary: str, description: str) -> None:
    """``POST /people/import`` and ``POST /residents/import``: one upload handler, two record kinds."""

    async def import_file(
        request: Request,
        file: UploadDep,
        station_id: StationForm,
        response: Response,
        session: SessionDep,
        clock: ClockDep,
        settings: SettingsDep,
        principal: PrincipalDep,
        partial: PartialForm = False,
    ) -> ImportResult:
        # The import writes in short transactions of its own. End the request's, which found the
        # caller: on SQLite it holds the one writer's lock.
        await session.commit()
        result = await importing.import_records(
            kind=kind,
            sessionmaker=request.app.state.sessionmaker,
            clock=clock,
            principal=principal,
            settings=settings,
            station_id=station_id,
            content=await importing.read_upload(file, settings.import_max_bytes),
            partial=partial,
        )
        # A rejected file (rows failed, nothing stored) answers 422 with the same per-row report.
        if result.errors and not partial:
            response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return result

    router.add_api_route(
        f"/{kind}/import",
        import_file,
        methods=["POST"],
        response_model=ImportResult,
        tags=[tag],
        name=f"import_{kind}",
        responses={
            422: {
                "model": ImportResult | ErrorEnvelope,
                "description": "Rows failed (the per-row report; nothing stored), or the upload is invalid",
            }
        },
        summary=summary,
        description=description,
    )


async def _person_answer(session: AsyncSession, person: Person) -> PersonOut:
    return person_out(person, (await station_zones(session, [person.station_id]))[person.station_id])


async def _resident_answer(
    session: AsyncSession, resident: Resident, principal: Principal, clock: Clock
) -> ResidentOut:
    zones = await station_zones(session, [resident.station_id])
    return resident_out(resident, zones[resident.station_id], principal, clock.now())


@router.get(
    "/vocabularies",
    response_model=VocabularyOut,
    tags=["people"],
    summary="Skills and languages to choose from (built-in and the station's own)",
)
async def get_vocabularies(
    session: SessionDep, principal: PrincipalDep, station_id: StationQuery = None
) -> VocabularyOut:
    """Skills, languages (built-in and the station's own) and the resident categories."""
    return await vocabularies.get_vocabulary(session=session, principal=principal, station_id=station_id)


@router.post(
    "/vocabularies",
    status_code=status.HTTP_201_CREATED,
    response_model=TermOut,
    tags=["people"],
    summary="Add a station's own skill or language",
)
async def create_term(
    data: TermCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> TermOut:
    term = await vocabularies.create_term(session=session, clock=clock, principal=principal, data=data)
    return TermOut(code=term.code, label_zh=term.label_zh, label_en=term.label_en, builtin=False)


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonOut,
    tags=["people"],
    summary="Register a volunteer, Party member or social worker",
)
async def create_person(
    data: PersonCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> PersonOut:
    person = await service.create_person(session=session, clock=clock, principal=principal, data=data)
    return await _person_answer(session, person)


@router.get(
    "/people",
    response_model=Page[PersonOut],
    tags=["people"],
    summary="People of the stations you can see, with filters",
)
async def list_people(
    session: SessionDep,
    principal: PrincipalDep,
    station_id: StationQuery = None,
    skill: Annotated[Line | None, Query(description="Skill code")] = None,
    language: Annotated[Line | None, Query(description="Language code")] = None,
    party_member: Annotated[bool | None, Query()] = None,
    social_worker: Annotated[bool | None, Query()] = None,
    active: ActiveQuery = None,
    q: NameQuery = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[PersonOut]:
    filters = service.PersonFilters(
        station_id=station_id,
        skill=skill,
        language=language,
        party_member=party_member,
        social_worker=social_worker,
        active=active,
        q=q,
    )
    rows, next_cursor = await service.list_people(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )
    zones = await station_zones(session, (p.station_id for p in rows))
    return Page(items=[person_out(p, zones[p.station_id]) for p in rows], next_cursor=next_cursor)


@router.get("/people/{person_id}", response_model=PersonOut, tags=["people"], summary="One person")
async def get_person(person_id: Id, session: SessionDep, principal: PrincipalDep) -> PersonOut:
    person = await service.get_person(session=session, principal=principal, person_id=person_id)
    return await _person_answer(session, person)


@router.patch("/people/{person_id}", response_model=PersonOut, tags=["people"], summary="Change a person")
async def update_person(
    person_id: Id, data: PersonUpdate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> PersonOut:
    person = await service.update_person(
        session=session, clock=clock, principal=principal, person_id=person_id, data=data
    )
    return await _person_answer(session, person)


@router.post(
    "/residents",
    status_code=status.HTTP_201_CREATED,
    response_model=ResidentOut,
    tags=["residents"],
    summary="Add a resident to the ledger (台账)",
)
async def create_resident(
    data: ResidentCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ResidentOut:
    resident = await residents.create_resident(session=session, clock=clock, principal=principal, data=data)
    return await _resident_answer(session, resident, principal, clock)


@router.get(
    "/residents",
    response_model=Page[ResidentOut],
    tags=["residents"],
    summary="Ledger residents, masked for roles that may not see phones and ID numbers",
)
async def list_residents(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    station_id: StationQuery = None,
    category: Annotated[Line | None, Query(description="Resident category code")] = None,
    language: Annotated[Line | None, Query(description="Language code")] = None,
    active: ActiveQuery = None,
    q: NameQuery = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[ResidentOut]:
    filters = residents.ResidentFilters(
        station_id=station_id, category=category, language=language, active=active, q=q
    )
    rows, next_cursor = await residents.list_residents(
        session=session, principal=principal, filters=filters, limit=limit, cursor=cursor
    )
    zones = await station_zones(session, (r.station_id for r in rows))
    now = clock.now()
    return Page(
        items=[resident_out(r, zones[r.station_id], principal, now) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/residents/{resident_id}", response_model=ResidentOut, tags=["residents"], summary="One ledger resident"
)
async def get_resident(
    resident_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ResidentOut:
    resident = await residents.get_resident(session=session, principal=principal, resident_id=resident_id)
    return await _resident_answer(session, resident, principal, clock)


@router.patch(
    "/residents/{resident_id}",
    response_model=ResidentOut,
    tags=["residents"],
    summary="Change a ledger resident",
)
async def update_resident(
    resident_id: Id, data: ResidentUpdate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ResidentOut:
    resident = await residents.update_resident(
        session=session, clock=clock, principal=principal, resident_id=resident_id, data=data
    )
    return await _resident_answer(session, resident, principal, clock)


_add_import_route(
    "people",
    tag="people",
    summary="Import people from an XLSX or CSV sheet",
    description="Add or update people from a file; a row whose phone is known at the station updates "
    "that person.",
)
_add_import_route(
    "residents",
    tag="residents",
    summary="Import ledger residents from an XLSX or CSV sheet",
    description="Add or update ledger residents from a file; a row with a known ID number updates "
    "that resident.",
)
