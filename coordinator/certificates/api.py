"""Routes of the certificate register: issue, list, read, print, revoke, re-issue, export."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attachments import attachment
from coordinator.auth.models import User
from coordinator.auth.principal import Principal
from coordinator.certificates import register
from coordinator.certificates.register import Issuer
from coordinator.certificates.schemas import CertificateIn, CertificateOut, ReissueIn, RevokeIn
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.records.models import Certificate
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.stations.service import get_station
from coordinator.stats import sheets
from coordinator.stats.certificate import certificate_pdf
from coordinator.stats.periods import local_date, zone

router = APIRouter(tags=["certificates"], responses=ERROR_RESPONSES)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGISTER_HEADERS = (
    "证明编号", "志愿者", "志愿者编号", "服务起始日期", "服务截止日期", "活动次数", "服务时长（小时）",
    "经办人", "签发账号", "签发时间", "状态", "撤销时间", "撤销原因",
)  # fmt: skip


def _out(certificate: Certificate, settings: Settings, timezone: str) -> CertificateOut:
    tz = zone(timezone)
    return CertificateOut(
        id=certificate.id, number=certificate.number, station_id=certificate.station_id,
        person_id=certificate.person_id, person_name=certificate.person_name, id_type=certificate.id_type,
        id_number_masked=certificate.id_number_masked, volunteer_number=certificate.volunteer_number,
        from_=certificate.period_first, to=certificate.period_last, activities=certificate.activities,
        hours=round(certificate.minutes / 60, 2), issuer_name=certificate.issuer_name,
        person_in_charge=certificate.person_in_charge, handler=certificate.handler,
        contact=certificate.contact,
        issued_by=certificate.issued_by, issued_at=certificate.issued_at.astimezone(tz),
        revoked_at=certificate.revoked_at.astimezone(tz) if certificate.revoked_at else None,
        revoke_reason=certificate.revoke_reason, replaces_id=certificate.replaces_id,
        verify_url=register.verify_url(settings.public_base_url, certificate),
    )  # fmt: skip


async def _timezone(session: AsyncSession, station_id: int) -> str:
    return (await session.get_one(Station, station_id)).timezone


@router.post("/certificates", response_model=CertificateOut, status_code=201,
             summary="Issue a 志愿服务记录证明 into the station's register (staff)")  # fmt: skip
async def issue_certificate(
    data: CertificateIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep
) -> CertificateOut:
    issuer = Issuer(data.person_in_charge, data.handler, data.contact)
    certificate = await register.issue(
        session, clock, principal, settings.secret_key.get_secret_value(),
        person_id=data.person_id, first=data.from_, last=data.to, issuer=issuer,
    )  # fmt: skip
    return _out(certificate, settings, await _timezone(session, certificate.station_id))


@router.get("/certificates", response_model=Page[CertificateOut], summary="The register of certificates")
async def list_certificates(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep,
    station_id: Annotated[Id | None, Query()] = None, person_id: Annotated[Id | None, Query()] = None,
    limit: LimitQuery = 100, cursor: CursorQuery = None,
) -> Page[CertificateOut]:  # fmt: skip
    found, next_cursor = await register.list_register(
        session, principal, station_id=station_id, person_id=person_id, limit=limit, cursor=cursor
    )
    zones = {c.station_id: await _timezone(session, c.station_id) for c in found}
    return Page(items=[_out(c, settings, zones[c.station_id]) for c in found], next_cursor=next_cursor)


async def _register_rows(session: AsyncSession, principal: Principal, station_id: int) -> list[list[object]]:
    station = await get_station(session=session, principal=principal, station_id=station_id)
    tz = zone(station.timezone)
    rows = await session.execute(
        select(Certificate, User.username)
        .outerjoin(User, User.id == Certificate.issued_by)
        .where(Certificate.station_id == station_id)
        .order_by(Certificate.issued_at, Certificate.id)
    )

    def moment(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    return [
        [c.number, c.person_name, c.volunteer_number or "", c.period_first, c.period_last, c.activities,
         round(c.minutes / 60, 2), c.handler, username or "", moment(c.issued_at),
         "已撤销" if c.revoked_at else "有效", moment(c.revoked_at), c.revoke_reason or ""]
        for c, username in rows
    ]  # fmt: skip


@router.get("/certificates/register.xlsx", response_class=Response,
            summary="The station's register of certificates as XLSX (staff)")  # fmt: skip
async def register_xlsx(session: SessionDep, principal: PrincipalDep, station_id: Id) -> Response:
    principal.require_staff()
    rows = await _register_rows(session, principal, station_id)
    workbook, sheet = sheets.new_workbook()
    sheet.title = "证明登记"
    sheets.write_table(sheet, REGISTER_HEADERS, rows, title="志愿服务记录证明登记册")
    return attachment(sheets.to_bytes(workbook), XLSX, filename="证明登记册.xlsx",
                      fallback=f"certificates-station-{station_id}.xlsx")  # fmt: skip


@router.get("/certificates/register.csv", response_class=Response,
            summary="The station's register of certificates as CSV (staff)")  # fmt: skip
async def register_csv(session: SessionDep, principal: PrincipalDep, station_id: Id) -> Response:
    principal.require_staff()
    rows = await _register_rows(session, principal, station_id)
    content = sheets.table_csv(REGISTER_HEADERS, rows, [f"共 {len(rows)} 份"])
    return attachment(content, "text/csv; charset=utf-8", filename="证明登记册.csv",
                      fallback=f"certificates-station-{station_id}.csv")  # fmt: skip


@router.get("/certificates/{certificate_id}.pdf", response_class=Response,
            summary="The certificate as a printable A4 PDF with its QR code")  # fmt: skip
async def certificate_file(
    certificate_id: Id, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    certificate = await register.get_certificate(session, principal, certificate_id)
    return await pdf_response(session, settings, certificate)


# After the .pdf route: this one's path would take "7.pdf" as an id and refuse it.
@router.get("/certificates/{certificate_id}", response_model=CertificateOut,
            summary="One certificate (staff; a volunteer their own)")  # fmt: skip
async def get_certificate(
    certificate_id: Id, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> CertificateOut:
    certificate = await register.get_certificate(session, principal, certificate_id)
    return _out(certificate, settings, await _timezone(session, certificate.station_id))


async def pdf_response(session: AsyncSession, settings: Settings, certificate: Certificate) -> Response:
    """The PDF download of a certificate (the pages' route serves the same)."""
    timezone = await _timezone(session, certificate.station_id)
    # Drawing takes about a second of CPU (subsetting the CJK font): off the event loop.
    content = await asyncio.to_thread(
        certificate_pdf,
        certificate,
        verify_url=register.verify_url(settings.public_base_url, certificate),
        issued_on=local_date(certificate.issued_at, timezone),
    )
    return attachment(content, "application/pdf", filename=f"志愿服务记录证明_{certificate.number}.pdf",
                      fallback=f"certificate-{certificate.number}.pdf")  # fmt: skip


@router.post("/certificates/{certificate_id}/revoke", response_model=CertificateOut,
             summary="Revoke a certificate: its QR code stops verifying (staff)")  # fmt: skip
async def revoke_certificate(
    certificate_id: Id, data: RevokeIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    settings: SettingsDep,
) -> CertificateOut:  # fmt: skip
    certificate = await register.revoke(session, clock, principal, certificate_id, reason=data.reason)
    return _out(certificate, settings, await _timezone(session, certificate.station_id))


@router.post("/certificates/{certificate_id}/reissue", response_model=CertificateOut, status_code=201,
             summary="Revoke a certificate and issue it anew for the same period (staff)")  # fmt: skip
async def reissue_certificate(
    certificate_id: Id, data: ReissueIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    settings: SettingsDep,
) -> CertificateOut:  # fmt: skip
    issuer = None
    if data.person_in_charge or data.handler or data.contact:
        old = await register.get_certificate(session, principal, certificate_id)
        issuer = Issuer(data.person_in_charge or old.person_in_charge, data.handler or old.handler,
                        data.contact or old.contact)  # fmt: skip
    certificate = await register.reissue(
        session, clock, principal, settings.secret_key.get_secret_value(), certificate_id,
        reason=data.reason, issuer=issuer,
    )  # fmt: skip
    return _out(certificate, settings, await _timezone(session, certificate.station_id))
