"""Routes of case files, their read log, and a resident's timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from coordinator.cases import service
from coordinator.cases.models import Case, CaseEntry, CaseStatus
from coordinator.cases.schemas import (
    CaseClose,
    CaseIn,
    CaseOut,
    CaseReadOut,
    CaseSummaryOut,
    CaseUpdate,
    EntryIn,
    EntryOut,
    TimelineOut,
)
from coordinator.cases.timeline import timeline
from coordinator.deps import ClockDep, PrincipalDep, SessionDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id

router = APIRouter(tags=["cases"], responses=ERROR_RESPONSES)


def _summary(case: Case) -> CaseSummaryOut:
    return CaseSummaryOut.model_validate(case, from_attributes=True)


def _entry(entry: CaseEntry) -> EntryOut:
    return EntryOut.model_validate(entry, from_attributes=True)


def _full(case: Case, entries: list[CaseEntry]) -> CaseOut:
    return CaseOut(
        **_summary(case).model_dump(),
        opened_from_visit_id=case.opened_from_visit_id,
        assessment=case.assessment,
        plan=case.plan,
        entries=[_entry(e) for e in entries],
    )


@router.post("/cases", response_model=CaseOut, status_code=status.HTTP_201_CREATED, summary="Open a case")
async def post_case(data: CaseIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> CaseOut:
    case = await service.open_case(session=session, clock=clock, principal=principal, data=data)
    return _full(*await service.read_case(session=session, clock=clock, principal=principal, case_id=case.id))


@router.get("/cases", response_model=list[CaseSummaryOut], summary="A station's cases, without their notes")
async def get_cases(
    session: SessionDep,
    principal: PrincipalDep,
    station_id: Annotated[Id, Query()],
    case_status: Annotated[CaseStatus | None, Query(alias="status")] = None,
    resident_id: Annotated[Id | None, Query()] = None,
) -> list[CaseSummaryOut]:
    cases = await service.list_cases(
        session=session,
        principal=principal,
        station_id=station_id,
        status=case_status,
        resident_id=resident_id,
    )
    return [_summary(case) for case in cases]


@router.get("/cases/reads", response_model=list[CaseReadOut], summary="Who read which case (heads)")
async def get_reads(
    session: SessionDep,
    principal: PrincipalDep,
    station_id: Annotated[Id, Query()],
    case_id: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CaseReadOut]:
    rows = await service.read_log(
        session=session, principal=principal, station_id=station_id, case_id=case_id, limit=limit
    )
    return [
        CaseReadOut(
            id=r.id, case_id=r.case_id, user_id=r.user_id, username=name, read_at=r.read_at, what=r.what
        )
        for r, name in rows
    ]


@router.get("/cases/{case_id}", response_model=CaseOut, summary="A case with its notes (the read is logged)")
async def get_case(case_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep) -> CaseOut:
    return _full(*await service.read_case(session=session, clock=clock, principal=principal, case_id=case_id))


@router.patch("/cases/{case_id}", response_model=CaseSummaryOut, summary="Change worker, assessment or plan")
async def patch_case(
    case_id: Id, data: CaseUpdate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> CaseSummaryOut:
    case = await service.update_case(
        session=session, clock=clock, principal=principal, case_id=case_id, data=data
    )
    return _summary(case)


@router.post(
    "/cases/{case_id}/entries",
    response_model=EntryOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a service entry (a visit, a contact, a service, a note)",
)
async def post_entry(
    case_id: Id, data: EntryIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> EntryOut:
    return _entry(
        await service.add_entry(session=session, clock=clock, principal=principal, case_id=case_id, data=data)
    )


@router.post("/cases/{case_id}/close", response_model=CaseSummaryOut, summary="Close a case with a reason")
async def post_close(
    case_id: Id, data: CaseClose, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> CaseSummaryOut:
    return _summary(
        await service.close_case(
            session=session, clock=clock, principal=principal, case_id=case_id, data=data
        )
    )


@router.get(
    "/residents/{resident_id}/timeline",
    response_model=TimelineOut,
    summary="Visits, activities served by and (for note readers) case entries",
)
async def get_timeline(
    resident_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> TimelineOut:
    return await timeline(session=session, clock=clock, principal=principal, resident_id=resident_id)
