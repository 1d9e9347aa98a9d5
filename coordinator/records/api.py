"""Routes of the volunteer service record: identity, the record, its entries, the national export
and the audit of its downloads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from coordinator.attachments import attachment
from coordinator.attendance.recording import HOURS_RULE
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, client_address
from coordinator.errors import ERROR_RESPONSES, Forbidden
from coordinator.fields import Id
from coordinator.records import national, service
from coordinator.records.identity import ID_TYPE_LABELS, IdCipher
from coordinator.records.models import PersonalDataDownload, PersonIdentity, RecordEntry
from coordinator.records.schemas import (
    CertificateBriefOut,
    CourseSessionOut,
    DownloadOut,
    EntryIn,
    EntryOut,
    IdentityIn,
    IdentityOut,
    ServiceLineOut,
    ServiceRecordOut,
)
from coordinator.stations.models import Station
from coordinator.stats.api import FromQuery, ToQuery
from coordinator.stats.periods import zone
from coordinator.stats.service import select_scope
from coordinator.training.hours import training_records

router = APIRouter(tags=["service records"], responses=ERROR_RESPONSES)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def get_id_cipher(request: Request) -> IdCipher:
    cipher: IdCipher = request.app.state.id_cipher
    return cipher


IdCipherDep = Annotated[IdCipher, Depends(get_id_cipher)]


def _identity_out(identity: PersonIdentity | None) -> IdentityOut:
    if identity is None:
        return IdentityOut(id_type=None, id_type_label=None, id_number=None, volunteer_number=None)
    return IdentityOut(
        id_type=identity.id_type,
        id_type_label=ID_TYPE_LABELS[identity.id_type],
        id_number=identity.id_number_masked,
        volunteer_number=identity.volunteer_number,
    )


def _entry_out(entry: RecordEntry) -> EntryOut:
    hours = round(entry.training_minutes / 60, 2) if entry.training_minutes is not None else None
    return EntryOut(id=entry.id, kind=entry.kind, day=entry.day, title=entry.title, issuer=entry.issuer,
                    content=entry.content, training_hours=hours, rating=entry.rating,
                    created_at=entry.created_at)  # fmt: skip


@router.put("/people/{person_id}/identity", response_model=IdentityOut,
            summary="Set a person's real-name ID and volunteer number (staff); answered masked")  # fmt: skip
async def put_identity(
    person_id: Id, data: IdentityIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    cipher: IdCipherDep,
) -> IdentityOut:  # fmt: skip
    identity = await service.set_identity(session, clock, principal, cipher, person_id=person_id, data=data)
    return _identity_out(identity)


@router.post("/people/{person_id}/record-entries", response_model=EntryOut, status_code=201,
             summary="Add a training, commendation or evaluation to a record (staff)")  # fmt: skip
async def post_entry(
    person_id: Id, data: EntryIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> EntryOut:
    return _entry_out(await service.add_entry(session, clock, principal, person_id=person_id, data=data))


@router.get("/people/{person_id}/service-record", response_model=ServiceRecordOut,
            summary="A volunteer's service record (志愿服务记录); volunteers read their own")  # fmt: skip
async def get_service_record(person_id: Id, session: SessionDep, principal: PrincipalDep) -> ServiceRecordOut:
    found = await service.service_record(session, principal, person_id)
    record = found.record
    tz = zone(record.station.timezone)
    entries = {kind: [_entry_out(e) for e in found.entries if e.kind == kind]
               for kind in ("training", "commendation", "evaluation")}  # fmt: skip
    return ServiceRecordOut(
        person_id=record.person.id, name=record.person.name, station_id=record.station.id,
        identity=_identity_out(found.identity), hours=round(record.minutes / 60, 2), hours_rule=HOURS_RULE[0],
        services=[ServiceLineOut(event_id=a.event_id, activity=a.title, day=a.starts_at.date(),
                                 starts_at=a.starts_at, place=a.location, hours=round(a.minutes / 60, 2))
                  for a in record.activities],
        trainings=entries["training"],
        course_sessions=[CourseSessionOut(course_id=t.course_id, topic=t.topic, event_id=t.event_id,
                                          day=t.starts_at.astimezone(zone(t.zone)).date(), hours=t.hours)
                         for t in await training_records(session, person_id)],
        commendations=entries["commendation"],
        evaluations=entries["evaluation"],
        certificates=[CertificateBriefOut(id=c.id, number=c.number, hours=round(c.minutes / 60, 2),
                                          issued_at=c.issued_at.astimezone(tz),
                                          revoked=c.revoked_at is not None)
                      for c in found.certificates],
    )  # fmt: skip


async def _export(
    request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep, cipher: IdCipher,
    station_id: int, first: date | None, last: date | None, what: str,
) -> national.NationalExport:  # fmt: skip
    selection = await select_scope(session, principal, clock, station_id=station_id, first=first, last=last,
                                   group_by=[])  # fmt: skip
    station = await session.get_one(Station, station_id)
    export = await national.build_export(session, principal, cipher, station=station, first=selection.first,
                                         last=selection.last)  # fmt: skip
    await national.audit_download(session, clock, principal, export, what=what,
                                  client_address=client_address(request))  # fmt: skip
    return export


@router.get("/records/national.xlsx", response_class=Response,
            summary="Volunteers and service-time records for the national system, with full ID numbers "
                    "(station heads, admins; every download audited)")  # fmt: skip
async def national_xlsx(
    request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep, cipher: IdCipherDep,
    station_id: Id, first: FromQuery = None, last: ToQuery = None,
) -> Response:  # fmt: skip
    export = await _export(
        request, session, principal, clock, cipher, station_id, first, last, "national.xlsx"
    )
    period = f"{export.first}_{export.last}"
    return attachment(
        national.export_xlsx(export),
        XLSX,
        filename=f"全国志愿服务信息系统导入_{export.station.code}_{period}.xlsx",
        fallback=f"national-station-{station_id}-{period}.xlsx",
    )


@router.get("/records/national.csv", response_class=Response,
            summary="One table of the national export as CSV (station heads, admins; audited)")  # fmt: skip
async def national_csv(
    request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep, cipher: IdCipherDep,
    station_id: Id, first: FromQuery = None, last: ToQuery = None, part: national.Part = "services",
) -> Response:  # fmt: skip
    export = await _export(request, session, principal, clock, cipher, station_id, first, last,
                           f"national.csv:{part}")  # fmt: skip
    period = f"{export.first}_{export.last}"
    return attachment(
        national.export_csv(export, part),
        "text/csv; charset=utf-8",
        filename=f"全国志愿服务信息系统导入_{part}_{period}.csv",
        fallback=f"national-{part}-{station_id}-{period}.csv",
    )


@router.get("/records/downloads", response_model=list[DownloadOut],
            summary="The audit of downloads holding full ID numbers (station heads, admins)")  # fmt: skip
async def list_downloads(session: SessionDep, principal: PrincipalDep, station_id: Id) -> list[DownloadOut]:
    if not principal.sees_personal_data(station_id):
        raise Forbidden("只有站长和管理员可以查看", "Only station heads and admins may read this audit",
                        code="personal_data_forbidden")  # fmt: skip
    rows = await session.scalars(
        select(PersonalDataDownload)
        .where(PersonalDataDownload.station_id == station_id)
        .order_by(PersonalDataDownload.id.desc())
        .limit(500)
    )
    return [DownloadOut(id=r.id, user_id=r.user_id, at=r.at, what=r.what, station_id=r.station_id,
                        from_=r.period_first, to=r.period_last, id_numbers=r.id_numbers,
                        client_address=r.client_address) for r in rows]  # fmt: skip
