"""Exports: participation statistics (XLSX, CSV) and the attendance ledger of a period (XLSX).

The exported rows are the API's rows (``service.participation``), with station, organization and
theme shown by name for people reading them; numbers are the same numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import Attendance
from coordinator.auth.principal import Principal
from coordinator.errors import not_found
from coordinator.events.models import CustomTheme, Event
from coordinator.events.themes import BUILTIN_THEMES
from coordinator.people.models import Person
from coordinator.regions.models import Region
from coordinator.stations.models import Organization, Station
from coordinator.stats.figures import DIMENSION_FIELDS, Participation
from coordinator.stats.periods import local_date, utc_window, zone
from coordinator.stats.sheets import new_workbook, table_csv, to_bytes, write_table

DIMENSION_HEADERS = {
    "station": "服务站",
    "region": "行政区域",
    "theme": "活动主题",
    "organization": "社会组织",
    "month": "月份",
    "week": "周",
    "role": "岗位",
    "party_branch": "党支部",
}
FIGURE_HEADERS = {
    "events": "活动场次",
    "person_times": "参与人次",
    "distinct_people": "参与人数",
    "party_member_person_times": "党员参与人次",
    "distinct_party_members": "党员参与人数",
    "social_worker_person_times": "社工参与人次",
    "volunteer_hours": "志愿服务时长（小时）",
    "residents_served_person_times": "服务居民人次",
    "distinct_residents_served": "服务居民人数",
    "no_show_rate": "缺席率",
}
STATUS_LABELS = {"present": "出勤", "late": "迟到", "absent": "缺勤", "no_show": "未到"}
METHOD_LABELS = {
    "qr": "扫码签到",
    "roster": "名册登记",
    "offline_batch": "离线同步",
    "self_report": "自行申报",
}


class Names:
    """Display names of stations, organizations and themes (custom themes by station)."""

    def __init__(
        self,
        stations: dict[int, str],
        organizations: dict[int, str],
        themes: dict[str, str],
        regions: dict[int, str] | None = None,
    ) -> None:
        self.stations, self.organizations, self.themes = stations, organizations, themes
        self.regions = regions or {}

    @classmethod
    async def load(cls, session: AsyncSession) -> Names:
        stations = {sid: name for sid, name in await session.execute(select(Station.id, Station.name))}
        organizations = {
            oid: name for oid, name in await session.execute(select(Organization.id, Organization.name))
        }
        themes = {code: theme.name_zh for code, theme in BUILTIN_THEMES.items()}
        for code, name in await session.execute(select(CustomTheme.code, CustomTheme.name_zh)):
            themes.setdefault(code, name)
        regions = {rid: name for rid, name in await session.execute(select(Region.id, Region.name))}
        return cls(stations, organizations, themes, regions)

    def show(self, dimension: str, value: Any) -> Any:
        if value is None:
            return "（无）"
        if dimension == "station":
            return self.stations.get(value, value)
        if dimension == "organization":
            return self.organizations.get(value, value)
        if dimension == "region":
            return self.regions.get(value, value)
        if dimension == "theme":
            return self.themes.get(value, value)
        return value


def participation_table(answer: Participation, names: Names) -> tuple[list[str], list[list[Any]], list[Any]]:
    headers = [DIMENSION_HEADERS[d] for d in answer.group_by] + list(FIGURE_HEADERS.values())
    rows = []
    for row in answer.row_dicts():
        dims = [names.show(d, row[DIMENSION_FIELDS[d]]) for d in answer.group_by]
        rows.append(dims + [row[field] for field in FIGURE_HEADERS])
    totals = answer.totals.as_dict()
    label = ["合计", *([""] * (len(answer.group_by) - 1))] if answer.group_by else []
    total_row = label + [totals[field] for field in FIGURE_HEADERS]
    return headers, rows, total_row


def participation_xlsx(answer: Participation, names: Names, *, first: date, last: date) -> bytes:
    workbook, sheet = new_workbook()
    sheet.title = "参与统计"
    headers, rows, totals = participation_table(answer, names)
    title = f"志愿服务参与统计（{first.isoformat()} 至 {last.isoformat()}）"
    write_table(sheet, headers, rows, totals=totals, title=title)
    return to_bytes(workbook)


def participation_csv(answer: Participation, names: Names) -> bytes:
    headers, rows, totals = participation_table(answer, names)
    return table_csv(headers, rows, totals)


LEDGER_HEADERS = ["日期", "活动", "活动主题", "姓名", "党员", "社工", "出勤情况", "签到时间", "签退时间",
                  "时长（小时）", "已审核", "登记方式"]  # fmt: skip


async def attendance_ledger_xlsx(
    session: AsyncSession, principal: Principal, *, station_id: int, first: date, last: date
) -> bytes:
    """Every attendance row of the station's events with a local start date in [first, last]."""
    principal.require_staff()
    station = await session.get(Station, station_id)
    if station is None or not principal.can_access(station.id):
        raise not_found("服务站", "station", station_id)
    names = await Names.load(session)
    start, end = utc_window(first, last)
    tz = zone(station.timezone)
    query = (
        select(Event.starts_at, Event.title, Event.theme, Person.name, Person.is_party_member,
               Person.is_social_worker, Attendance)
        .join(Attendance, Attendance.event_id == Event.id)
        .join(Person, Person.id == Attendance.person_id)
        .where(Event.station_id == station.id, Event.starts_at >= start, Event.starts_at < end)
        .order_by(Event.starts_at, Event.id, Person.name, Person.id)
    )  # fmt: skip
    rows = []
    minutes = 0
    for starts_at, title, theme, name, party, social, row in await session.execute(query):
        day = local_date(starts_at, station.timezone)
        if not first <= day <= last:
            continue
        minutes += row.minutes
        rows.append([
            day.isoformat(), title, names.show("theme", theme), name,
            "是" if party else "", "是" if social else "",
            STATUS_LABELS.get(row.status, row.status),
            row.checked_in_at.astimezone(tz).strftime("%H:%M") if row.checked_in_at else "",
            row.checked_out_at.astimezone(tz).strftime("%H:%M") if row.checked_out_at else "",
            round(row.minutes / 60, 2), "是" if row.approved else "待审核",
            METHOD_LABELS.get(row.method or "", row.method or ""),
        ])  # fmt: skip
    workbook, sheet = new_workbook()
    sheet.title = "出勤台账"
    totals = ["合计", f"{len(rows)} 条", *[""] * 7, round(minutes / 60, 2), "", ""]
    title = f"{station.name} 志愿服务出勤台账（{first.isoformat()} 至 {last.isoformat()}）"
    write_table(sheet, LEDGER_HEADERS, rows, totals=totals, title=title)
    return to_bytes(workbook)
