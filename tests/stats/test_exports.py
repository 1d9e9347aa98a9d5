"""Exports and the monthly report, read back with openpyxl (and csv): the numbers are the API's."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import unquote

import httpx
from openpyxl import load_workbook
from sqlalchemy import update

from coordinator.db import transaction
from coordinator.stations.models import Station
from tests.stats.scenario import Scenario
from tests.world import World

YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet_rows(content: bytes, name: str | None = None) -> tuple[Any, list[list[Any]]]:
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook[name] if name else workbook.active
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_participation_xlsx_has_the_api_numbers_and_a_formatted_sheet(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    params: dict[str, Any] = {**YEAR, "group_by": "month,theme"}
    api = (await client.get("/api/v1/stats/participation", params=params, headers=world.admin)).json()
    response = await client.get("/api/v1/stats/export.xlsx", params=params, headers=world.admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    sheet, rows = _sheet_rows(response.content)
    assert rows[0][0].startswith("志愿服务参与统计")
    header = rows[1]
    assert header[:4] == ["月份", "活动主题", "活动场次", "参与人次"]
    assert sheet.cell(row=2, column=1).font.bold
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["A"].width >= 8
    body, totals = rows[2:-1], rows[-1]
    assert [(r[0], r[1], r[3], r[4]) for r in body] == [
        (row["month"], "党建引领志愿服务" if row["theme"] == "party_volunteer_drive" else r[1],
         row["person_times"], row["distinct_people"])
        for row, r in zip(api["rows"], body, strict=True)
    ]  # fmt: skip
    assert totals[0] == "合计"
    assert sheet.cell(row=sheet.max_row, column=1).font.bold
    assert totals[2:] == [api["totals"][k] for k in (
        "events", "person_times", "distinct_people", "party_member_person_times", "distinct_party_members",
        "social_worker_person_times", "volunteer_hours", "residents_served_person_times",
        "distinct_residents_served", "no_show_rate")]  # fmt: skip


async def test_participation_csv_matches_the_xlsx(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    params: dict[str, Any] = {**YEAR, "group_by": "theme"}
    response = await client.get("/api/v1/stats/export.csv", params=params, headers=world.admin)
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows needs the BOM
    disposition = response.headers["content-disposition"]
    assert 'filename="participation-2026-01-01-2026-12-31.csv"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "参与统计_2026-01-01_2026-12-31.csv"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["活动主题", "活动场次", "参与人次"]
    by_theme = {r[0]: r for r in rows[1:-1]}
    assert by_theme["入户走访"][1:3] == ["2", "3"]
    assert rows[-1][:4] == ["合计", "4", "6", "4"]


async def test_attendance_ledger_lists_every_row_of_the_period(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    station = scenario.history.station.id
    params: dict[str, Any] = {"station_id": station, "from": "2026-10-01", "to": "2026-10-31"}
    response = await client.get("/api/v1/stats/attendance.xlsx", params=params, headers=world.organizer)
    assert response.status_code == 200, response.text
    _, rows = _sheet_rows(response.content)
    body = rows[2:-1]
    # All four rows of e0, counted or not: the ledger is the record, statistics are its reading.
    assert len(body) == 4
    assert sorted(r[6] for r in body) == ["出勤", "出勤", "缺勤", "迟到"]
    assert [r[10] for r in body].count("待审核") == 1
    assert rows[-1][0] == "合计"
    assert rows[-1][9] == 4.5  # 120 + 90 + 0 + 60 minutes
    other = await client.get("/api/v1/stats/attendance.xlsx", params=params, headers=world.other_organizer)
    assert other.status_code == 404


async def test_monthly_report_for_the_bureau(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    params: dict[str, Any] = {"station_id": scenario.history.station.id, "month": "2026-11"}
    response = await client.get("/api/v1/reports/monthly.xlsx", params=params, headers=world.head)
    assert response.status_code == 200, response.text
    station = scenario.history.station
    disposition = response.headers["content-disposition"]
    assert f'filename="monthly-report-station-{station.id}-2026-11.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"月度报表_{station.code}_2026-11.xlsx"
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["活动统计", "入户走访", "走访覆盖", "台账", "志愿者", "培训与督导"]
    themes = [list(r) for r in workbook["活动统计"].iter_rows(values_only=True)]
    assert themes[1][:4] == ["活动主题", "活动场次", "参与人次", "参与人数"]
    assert themes[2][:4] == ["入户走访", 1, 2, 2]
    assert themes[-1][:4] == ["合计", 1, 2, 2]
    assert workbook["活动统计"].freeze_panes == "A3"
    visits = [list(r) for r in workbook["入户走访"].iter_rows(values_only=True)]
    assert visits[2] == [1, 2, 7, 2, 2]
    ledger = [list(r) for r in workbook["台账"].iter_rows(values_only=True)]
    assert ledger[2] == ["空巢老人", 3, 2]
    volunteers = dict(list(r) for r in workbook["志愿者"].iter_rows(min_row=3, values_only=True))
    assert volunteers["在册志愿者（人）"] == 4
    assert volunteers["本月参与服务（人）"] == 2
    assert volunteers["其中党员（人）"] == 2
    assert volunteers["其中社工（人）"] == 1


async def test_monthly_report_rejects_a_bad_month(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    params: dict[str, Any] = {"station_id": scenario.history.station.id, "month": "2026-13"}
    response = await client.get("/api/v1/reports/monthly.xlsx", params=params, headers=world.head)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_month"


def _formulas(content: bytes) -> list[str]:
    workbook = load_workbook(io.BytesIO(content))
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


async def test_text_that_would_run_as_a_formula_stays_text_in_every_export(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    """CWE-1236: names, branches and station names typed as formulas are written with a leading
    apostrophe, in XLSX and CSV alike."""
    p0 = scenario.history.people[0]
    name, branch = '=HYPERLINK("http://evil.example","点我")', "+1+cmd|' /C calc'!A0"
    changed = await client.patch(
        f"/api/v1/people/{p0.id}", json={"name": name, "party_branch": branch}, headers=world.head
    )
    assert changed.status_code == 200, changed.text
    async with transaction(world.sessionmaker) as session:
        await session.execute(update(Station).where(Station.id == world.station.id).values(name="@营盘坡"))
    by_branch: dict[str, Any] = {**YEAR, "group_by": "party_branch"}
    xlsx = await client.get("/api/v1/stats/export.xlsx", params=by_branch, headers=world.admin)
    _, rows = _sheet_rows(xlsx.content)
    assert "'" + branch in [r[0] for r in rows]
    csv_export = await client.get("/api/v1/stats/export.csv", params=by_branch, headers=world.admin)
    csv_rows = list(csv.reader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
    assert "'" + branch in [r[0] for r in csv_rows]
    station = {"station_id": world.station.id}
    ledger = await client.get(
        "/api/v1/stats/attendance.xlsx", params={**station, "from": "2026-10-01", "to": "2026-10-31"},
        headers=world.organizer,
    )  # fmt: skip
    _, ledger_rows = _sheet_rows(ledger.content)
    assert ledger_rows[0][0].startswith("'@营盘坡")
    assert "'" + name in [r[3] for r in ledger_rows]
    report = await client.get("/api/v1/reports/monthly.xlsx", params={**station, "month": "2026-11"},
                              headers=world.head)  # fmt: skip
    assert _sheet_rows(report.content, "台账")[1][0][0].startswith("'@营盘坡")
    for response in (xlsx, ledger, report):
        assert response.status_code == 200
        assert _formulas(response.content) == []
