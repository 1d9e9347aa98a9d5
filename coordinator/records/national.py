"""The export for the national system (全国志愿服务信息系统): the MZ/T 061-2016 data elements of
volunteers and of service-time records of one station and period, with full ID numbers. People
without a real-name ID are listed apart with what is missing. Every download is audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance
from coordinator.attendance.recording import HOURS_RULE
from coordinator.auth.models import User
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Forbidden
from coordinator.events.models import Event
from coordinator.masking import mask_phone
from coordinator.people.models import Person
from coordinator.records.identity import ID_TYPE_LABELS, IdCipher
from coordinator.records.models import PersonalDataDownload, PersonIdentity
from coordinator.stations.models import Organization, Station
from coordinator.stats import sheets
from coordinator.stats.periods import local_date, utc_window, zone
from coordinator.stats.queries import COUNTED_EVENT_STATUSES

SERVICE_HEADERS = ("志愿者姓名", "证件类型", "证件号码", "志愿者编号", "活动（项目）名称", "服务日期",
                   "开始时间", "结束时间", "服务时长（小时）", "服务地点", "组织单位", "记录人")  # fmt: skip
VOLUNTEER_HEADERS = ("志愿者姓名", "证件类型", "证件号码", "志愿者编号", "联系电话", "服务次数",
                     "服务时长（小时）")  # fmt: skip
MISSING_HEADERS = ("志愿者姓名", "联系电话", "服务次数", "服务时长（小时）", "缺少的信息")
Part = Literal["services", "volunteers", "missing"]
PARTS: tuple[Part, ...] = get_args(Part)
NOTES = (
    HOURS_RULE[0],
    "数据元依据 MZ/T 061-2016《志愿服务信息系统基本规范》。",
    "缺少实名信息的志愿者列在“缺少实名信息”表，补录证件后再导出。",
)


@dataclass
class Volunteer:
    person: Person
    identity: PersonIdentity | None
    id_number: str | None = None
    services: list[list[object]] = field(default_factory=list)
    activities: int = 0
    minutes: int = 0


@dataclass(frozen=True)
class NationalExport:
    station: Station
    first: date
    last: date
    volunteers: list[Volunteer]

    @property
    def registered(self) -> list[Volunteer]:
        return [v for v in self.volunteers if v.id_number is not None]

    @property
    def missing(self) -> list[Volunteer]:
        return [v for v in self.volunteers if v.id_number is None]

    def table(self, part: Part) -> tuple[tuple[str, ...], list[list[object]]]:
        if part == "services":
            return SERVICE_HEADERS, [row for v in self.registered for row in v.services]
        if part == "volunteers":
            return VOLUNTEER_HEADERS, [
                [*_identity_cells(v), v.person.phone, v.activities, round(v.minutes / 60, 2)]
                for v in self.registered
            ]
        return MISSING_HEADERS, [
            [v.person.name, mask_phone(v.person.phone), v.activities, round(v.minutes / 60, 2),
             "证件类型、证件号码（实名信息）"]
            for v in self.missing
        ]  # fmt: skip


def _identity_cells(volunteer: Volunteer) -> list[object]:
    identity = volunteer.identity
    assert identity is not None
    return [volunteer.person.name, ID_TYPE_LABELS[identity.id_type], volunteer.id_number,
            identity.volunteer_number or ""]  # fmt: skip


async def build_export(
    session: AsyncSession,
    principal: Principal,
    cipher: IdCipher,
    *,
    station: Station,
    first: date,
    last: date,
) -> NationalExport:
    """Approved attendance of counted events, as the statistics count it; only those who may see
    the station's personal data (admins, its heads) get full ID numbers."""
    if not principal.sees_personal_data(station.id):
        raise Forbidden("只有站长和管理员可以导出完整证件号码", "Only station heads and admins may export "
                        "full ID numbers", code="personal_data_forbidden")  # fmt: skip
    start, end = utc_window(first, last)
    rows = await session.execute(
        select(Attendance, Event, Person, PersonIdentity, Organization.name, User.username)
        .join(Event, Event.id == Attendance.event_id)
        .join(Person, Person.id == Attendance.person_id)
        .outerjoin(PersonIdentity, PersonIdentity.person_id == Person.id)
        .outerjoin(Organization, Organization.id == Event.organization_id)
        .outerjoin(User, User.id == Attendance.recorded_by)
        .where(Attendance.station_id == station.id, Attendance.approved.is_(True),
               Attendance.status.in_(ATTENDED_STATUSES), Event.status.in_(COUNTED_EVENT_STATUSES),
               Event.starts_at >= start, Event.starts_at < end)
        .order_by(Person.id, Event.starts_at, Event.id)
    )  # fmt: skip
    tz = zone(station.timezone)
    volunteers: dict[int, Volunteer] = {}
    for attendance, event, person, identity, organization, recorder in rows:
        if not first <= local_date(event.starts_at, station.timezone) <= last:
            continue
        volunteer = volunteers.get(person.id)
        if volunteer is None:
            number = cipher.decrypt(identity.id_number_encrypted) if identity is not None else None
            volunteer = volunteers[person.id] = Volunteer(person, identity, number)
        began: datetime = attendance.checked_in_at or event.starts_at
        ended: datetime = attendance.checked_out_at or event.ends_at
        volunteer.activities += 1
        volunteer.minutes += attendance.minutes
        if volunteer.id_number is not None:
            volunteer.services.append([
                *_identity_cells(volunteer), event.title, began.astimezone(tz).date(),
                began.astimezone(tz).strftime("%H:%M"), ended.astimezone(tz).strftime("%H:%M"),
                round(attendance.minutes / 60, 2), event.location or "", organization or station.name,
                recorder or station.name,
            ])  # fmt: skip
    return NationalExport(station, first, last, list(volunteers.values()))


def export_xlsx(export: NationalExport) -> bytes:
    workbook, sheet = sheets.new_workbook()
    titles = {"services": "服务时长记录", "volunteers": "志愿者", "missing": "缺少实名信息"}
    period = f"{export.station.name} {export.first} 至 {export.last}"
    for index, part in enumerate(PARTS):
        target = sheet if index == 0 else workbook.create_sheet()
        target.title = titles[part]
        headers, rows = export.table(part)
        sheets.write_table(target, headers, rows, title=f"{titles[part]}（{period}）")
    notes = workbook.create_sheet("说明")
    sheets.write_table(notes, ("说明",), [[line] for line in NOTES])
    return sheets.to_bytes(workbook)


def export_csv(export: NationalExport, part: Part) -> bytes:
    headers, rows = export.table(part)
    return sheets.table_csv(headers, rows, [f"共 {len(rows)} 行"])


async def audit_download(
    session: AsyncSession, clock: Clock, principal: Principal, export: NationalExport, *, what: str,
    client_address: str,
) -> None:  # fmt: skip
    """Who downloaded which full ID numbers when: written in the request's transaction, so a file
    is only handed out when its audit row is stored."""
    session.add(PersonalDataDownload(
        user_id=principal.user_id or None, at=clock.now(), what=what, station_id=export.station.id,
        period_first=export.first, period_last=export.last, id_numbers=len(export.registered),
        client_address=client_address,
    ))  # fmt: skip
    await session.flush()
