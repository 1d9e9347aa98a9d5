"""Case files: open (directly or from a visit), read (logged), change, add entries, close, and
the read log. Listing shows no notes, so any staff of the station may list; the rest needs a
note reader (``access``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User
from coordinator.auth.principal import Principal
from coordinator.cases.access import log_read, require_note_reader
from coordinator.cases.models import Case, CaseEntry, CaseRead, CaseStatus, EntryKind
from coordinator.cases.schemas import CaseClose, CaseIn, CaseUpdate, EntryIn
from coordinator.clock import Clock
from coordinator.errors import Conflict, Invalid, not_found
from coordinator.people.models import Person
from coordinator.people.residents import get_resident
from coordinator.stations.service import get_station
from coordinator.visits.models import VisitRecord


async def open_case(*, session: AsyncSession, clock: Clock, principal: Principal, data: CaseIn) -> Case:
    resident = await get_resident(session=session, principal=principal, resident_id=data.resident_id)
    await require_note_reader(session, principal, resident.station_id)
    await _check_worker(session, resident.station_id, data.worker_person_id)
    visit = await _visit_of(session, resident.id, data.visit_record_id)
    now = clock.now()
    case = Case(
        station_id=resident.station_id,
        resident_id=resident.id,
        worker_person_id=data.worker_person_id,
        opened_from_visit_id=data.visit_record_id,
        title=data.title,
        assessment=data.assessment,
        plan=data.plan,
        status=CaseStatus.open,
        opened_by=principal.user_id,
        opened_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()
    if visit is not None:
        # The visit that opened the case is its first entry.
        session.add(
            CaseEntry(
                case_id=case.id,
                kind=EntryKind.visit,
                at=visit.visited_at,
                note=visit.notes or "入户走访发现需求，开案",
                visit_record_id=visit.id,
                author_id=principal.user_id,
                created_at=now,
            )
        )
        await session.flush()
    return case


async def _check_worker(session: AsyncSession, station_id: int, person_id: int) -> None:
    person = await session.get(Person, person_id)
    if person is None or person.station_id != station_id or not person.is_social_worker:
        raise Invalid(
            "个案社工须是本站社工",
            "The case worker must be a social worker of the station",
            code="not_a_social_worker",
            field="worker_person_id",
        )


async def _visit_of(session: AsyncSession, resident_id: int, visit_id: int | None) -> VisitRecord | None:
    if visit_id is None:
        return None
    visit = await session.get(VisitRecord, visit_id)
    if visit is None or visit.resident_id != resident_id:
        raise Invalid(
            "该走访记录不属于此居民",
            "The visit record is not one of this resident's",
            code="unknown_visit",
            field="visit_record_id",
        )
    return visit


async def _case(
    session: AsyncSession, principal: Principal, case_id: int, *, for_update: bool = False
) -> Case:
    principal.require_staff()
    case = await session.get(Case, case_id, with_for_update=for_update)
    if case is None or not principal.can_access(case.station_id):
        raise not_found("个案", "case", case_id)
    await require_note_reader(session, principal, case.station_id)
    return case


async def read_case(
    *, session: AsyncSession, clock: Clock, principal: Principal, case_id: int
) -> tuple[Case, list[CaseEntry]]:
    case = await _case(session, principal, case_id)
    entries = list(
        await session.scalars(
            select(CaseEntry).where(CaseEntry.case_id == case.id).order_by(CaseEntry.at, CaseEntry.id)
        )
    )
    log_read(session, clock, principal, case_id=case.id, station_id=case.station_id, what="case")
    await session.flush()
    return case, entries


async def list_cases(
    *,
    session: AsyncSession,
    principal: Principal,
    station_id: int,
    status: CaseStatus | None,
    resident_id: int | None,
) -> list[Case]:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=station_id)
    stmt = select(Case).where(Case.station_id == station_id)
    if status is not None:
        stmt = stmt.where(Case.status == status)
    if resident_id is not None:
        stmt = stmt.where(Case.resident_id == resident_id)
    return list(await session.scalars(stmt.order_by(Case.opened_at.desc(), Case.id.desc())))


async def update_case(
    *, session: AsyncSession, clock: Clock, principal: Principal, case_id: int, data: CaseUpdate
) -> Case:
    case = await _case(session, principal, case_id, for_update=True)
    _require_open(case)
    sent = data.model_dump(exclude_unset=True)
    if sent.get("worker_person_id") is not None:
        await _check_worker(session, case.station_id, sent["worker_person_id"])
    for field, value in sent.items():
        if value is not None or field in ("assessment", "plan"):
            setattr(case, field, value)
    case.updated_at = clock.now()
    await session.flush()
    return case


async def add_entry(
    *, session: AsyncSession, clock: Clock, principal: Principal, case_id: int, data: EntryIn
) -> CaseEntry:
    case = await _case(session, principal, case_id, for_update=True)
    _require_open(case)
    await _visit_of(session, case.resident_id, data.visit_record_id)
    now = clock.now()
    entry = CaseEntry(
        case_id=case.id,
        kind=data.kind,
        at=data.at or now,
        note=data.note,
        visit_record_id=data.visit_record_id,
        author_id=principal.user_id,
        created_at=now,
    )
    session.add(entry)
    case.updated_at = now
    await session.flush()
    return entry


async def close_case(
    *, session: AsyncSession, clock: Clock, principal: Principal, case_id: int, data: CaseClose
) -> Case:
    case = await _case(session, principal, case_id, for_update=True)
    _require_open(case)
    now = clock.now()
    case.status, case.close_reason, case.closed_at, case.updated_at = CaseStatus.closed, data.reason, now, now
    await session.flush()
    return case


def _require_open(case: Case) -> None:
    if case.status != CaseStatus.open:
        raise Conflict("个案已结案", "The case is closed", code="case_closed")


async def read_log(
    *, session: AsyncSession, principal: Principal, station_id: int, case_id: int | None, limit: int
) -> list[tuple[CaseRead, str | None]]:
    """Who read which case when, newest first: for the station's heads (and the county's admins)."""
    principal.require(Role.admin, Role.station_head)
    await get_station(session=session, principal=principal, station_id=station_id)
    stmt = (
        select(CaseRead, User.username)
        .outerjoin(User, User.id == CaseRead.user_id)
        .where(CaseRead.station_id == station_id)
    )
    if case_id is not None:
        stmt = stmt.where(CaseRead.case_id == case_id)
    rows = await session.execute(stmt.order_by(CaseRead.read_at.desc(), CaseRead.id.desc()).limit(limit))
    return [(row, username) for row, username in rows]
