"""Text stored before input refused control characters still downloads: workbooks, CSV, calendars
and certificates leave the characters out instead of failing for the whole station."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import icalendar
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update

from coordinator.db import transaction
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.stations.models import Station
from coordinator.stats import certificate
from tests.stats.scenario import Scenario
from tests.world import World

API = "/api/v1"
PERIOD = {"from": "2026-10-01", "to": "2026-12-31"}


@pytest.fixture
async def odd(world: World, scenario: Scenario) -> Scenario:
    """The scenario with a bell in p0's name and party branch, a line break in e0's title and an
    escape in the station's name, as an older version let them in."""
    history = scenario.history
    async with transaction(world.sessionmaker) as session:
        await session.execute(
            update(Person)
            .where(Person.id == history.people[0].id)
            .values(name="杨\x07秀英", party_branch="第1\x07党支部")
        )
        await session.execute(
            update(Event).where(Event.id == history.events[0].id).values(title="党建\r\nURL:evil.example")
        )
        await session.execute(
            update(Station).where(Station.id == history.station.id).values(name="营盘坡\x1b站")
        )
    return scenario


async def test_the_attendance_workbook_leaves_control_characters_out(
    client: httpx.AsyncClient, world: World, odd: Scenario
) -> None:
    params: dict[str, Any] = {"station_id": odd.history.station.id, **PERIOD}
    response = await client.get(f"{API}/stats/attendance.xlsx", params=params, headers=world.organizer)
    assert response.status_code == 200, response.text
    rows = [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    # A cell may hold a line break (Excel wraps it); a bell it may not.
    assert ["党建\nURL:evil.example", "杨秀英"] in [[r[1], r[3]] for r in rows]


async def test_the_statistics_exports_leave_control_characters_out(
    client: httpx.AsyncClient, world: World, odd: Scenario
) -> None:
    params: dict[str, Any] = {"station_id": odd.history.station.id, **PERIOD, "group_by": "party_branch"}
    sheet = await client.get(f"{API}/stats/export.xlsx", params=params, headers=world.head)
    assert sheet.status_code == 200, sheet.text
    rows = [list(r) for r in load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True)]
    assert "第1党支部" in [r[0] for r in rows]
    table = await client.get(f"{API}/stats/export.csv", params=params, headers=world.head)
    assert table.status_code == 200, table.text
    lines = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert [r[0] for r in lines[1:-1]].count("第1党支部") == 2  # p0's (cleaned) and p2's
    report = await client.get(
        f"{API}/reports/monthly.xlsx",
        params={"station_id": odd.history.station.id, "month": "2026-10"},
        headers=world.head,
    )
    assert report.status_code == 200, report.text
    titles = [sheet.cell(row=1, column=1).value for sheet in load_workbook(io.BytesIO(report.content))]
    assert "营盘坡站 2026年10月 志愿服务活动统计" in titles


async def test_the_calendar_file_keeps_the_title_on_one_line(
    client: httpx.AsyncClient, world: World, odd: Scenario
) -> None:
    response = await client.get(f"{API}/events/{odd.history.events[0].id}.ics", headers=world.organizer)
    assert response.status_code == 200, response.text
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "党建 URL:evil.example"
    assert b"\r\nURL:" not in response.content
    assert str(calendar["X-WR-CALNAME"]) == "党建 URL:evil.example"


async def test_the_certificate_of_a_name_with_a_control_character_prints(
    client: httpx.AsyncClient, world: World, odd: Scenario
) -> None:
    if certificate.find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    body = {"person_id": odd.history.people[0].id, "person_in_charge": "王建国", "handler": "李娟",
            "contact": "0855-1234567"}  # fmt: skip
    issued = await client.post(f"{API}/certificates", json=body, headers=world.organizer)
    assert issued.status_code == 201, issued.text
    response = await client.get(f"{API}/certificates/{issued.json()['id']}.pdf", headers=odd.volunteer)
    assert (response.status_code, response.content[:5]) == (200, b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "兹证明杨秀英" in text.replace("\n", "")  # without the bell
    assert all(ch >= " " for ch in response.headers["content-disposition"])
