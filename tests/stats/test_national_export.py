"""The export for the national system: MZ/T 061 data elements with full ID numbers for those who
may see them, people without a real-name ID listed apart, hours equal to the statistics', every
download audited, and full ID numbers nowhere else (logs, pages, other answers)."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from tests.records_helpers import resident_id, set_identity
from tests.stats.scenario import Scenario
from tests.world import World, error_code

PERIOD = {"from": "2026-10-01", "to": "2026-12-31"}
ID_P0 = resident_id("52260119900101123")
ID_P1 = resident_id("52260119851231456")


async def _register_two(client: httpx.AsyncClient, world: World, scenario: Scenario) -> None:
    p0, p1 = scenario.history.people[:2]
    await set_identity(client, world.head, p0.id, ID_P0, "52260100012345")
    await set_identity(client, world.organizer, p1.id, ID_P1, None)  # organizers may record it


async def test_the_export_holds_full_ids_and_the_statistics_hours_and_lists_who_lacks_an_id(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    await _register_two(client, world, scenario)
    params: dict[str, str | int] = {"station_id": world.station.id, **PERIOD}
    response = await client.get("/api/v1/records/national.xlsx", params=params, headers=world.head)
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["服务时长记录", "志愿者", "缺少实名信息", "说明"]
    services = list(book["服务时长记录"].iter_rows(min_row=3, values_only=True))
    volunteers = {row[0]: row for row in book["志愿者"].iter_rows(min_row=3, values_only=True)}
    missing = {row[0]: row for row in book["缺少实名信息"].iter_rows(min_row=3, values_only=True)}
    p0, p1, p2 = scenario.history.people[:3]
    assert volunteers[p0.name][1:4] == ("居民身份证", ID_P0, "52260100012345")
    assert volunteers[p1.name][2] == ID_P1
    assert {row[2] for row in services} == {ID_P0, ID_P1}
    assert (services[0][4], str(services[0][5])[:10]) == (scenario.history.events[0].title, "2026-10-15")
    assert all(row[6] < row[7] for row in services)  # start before end, local HH:MM
    # p2 served too but has no real-name ID: listed apart with what is missing, never dropped.
    assert p2.name not in volunteers
    assert missing[p2.name][4] == "证件类型、证件号码（实名信息）"
    assert ID_P0 not in str(list(book["缺少实名信息"].values))
    # Hours per person, and in all, equal the statistics API's.
    for person in (p0, p1, p2):
        stats = await client.get(f"/api/v1/stats/people/{person.id}", params=PERIOD, headers=world.head)
        exported = volunteers[person.name][6] if person.name in volunteers else missing[person.name][3]
        assert exported == stats.json()["hours"], person.name
    participation = await client.get("/api/v1/stats/participation", params=params, headers=world.head)
    minutes = sum(round(r[8] * 60) for r in services) + sum(round(r[3] * 60) for r in missing.values())
    assert round(minutes / 60, 2) == participation.json()["totals"]["volunteer_hours"]
    assert "签到至签退" in str(list(book["说明"].values))  # the hours rule, stated


async def test_each_download_is_audited_and_only_heads_and_admins_get_full_ids(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    await _register_two(client, world, scenario)
    params: dict[str, str | int] = {"station_id": world.station.id, **PERIOD}
    refused = await client.get("/api/v1/records/national.xlsx", params=params, headers=world.organizer)
    assert (refused.status_code, error_code(refused)) == (403, "personal_data_forbidden")
    elsewhere = await client.get("/api/v1/records/national.xlsx", params=params, headers=world.other_head)
    assert elsewhere.status_code == 404
    await client.get("/api/v1/records/national.xlsx", params=params, headers=world.head)
    as_csv = await client.get("/api/v1/records/national.csv", params={**params, "part": "volunteers"},
                              headers=world.admin)  # fmt: skip
    assert as_csv.status_code == 200, as_csv.text
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["志愿者姓名", "证件类型", "证件号码"]
    assert {row[2] for row in rows[1:-1]} == {ID_P0, ID_P1}
    audit = await client.get("/api/v1/records/downloads", params={"station_id": world.station.id},
                             headers=world.head)  # fmt: skip
    assert audit.status_code == 200, audit.text
    entries = audit.json()
    assert [(e["what"], e["id_numbers"], e["from"], e["to"]) for e in entries] == [
        ("national.csv:volunteers", 2, "2026-10-01", "2026-12-31"),
        ("national.xlsx", 2, "2026-10-01", "2026-12-31"),
    ]
    assert entries[0]["user_id"] != entries[1]["user_id"]  # who: the admin, then the head before
    assert all(e["at"] and e["client_address"] for e in entries)
    audit_refused = await client.get("/api/v1/records/downloads", params={"station_id": world.station.id},
                                     headers=world.organizer)  # fmt: skip
    assert audit_refused.status_code == 403


async def test_full_id_numbers_show_in_no_log_page_or_other_answer(
    client: httpx.AsyncClient, world: World, scenario: Scenario, captured: io.StringIO
) -> None:
    await _register_two(client, world, scenario)
    p0 = scenario.history.people[0]
    identity = await set_identity(client, world.head, p0.id, ID_P0, "52260100012345")
    assert identity.json()["id_number"] == "*" * 14 + ID_P0[-4:]
    issuer = {"person_in_charge": "王建国", "handler": "李娟", "contact": "0855-1234567"}
    issued = await client.post(
        "/api/v1/certificates", json={"person_id": p0.id, **issuer}, headers=world.head
    )
    station = {"station_id": world.station.id}
    seen = [
        identity.text,
        issued.text,
        (await client.get(f"/api/v1/people/{p0.id}/service-record", headers=scenario.volunteer)).text,
        (await client.get(f"/api/v1/people/{p0.id}/service-record", headers=world.head)).text,
        (await client.get(f"/api/v1/people/{p0.id}", headers=world.head)).text,
        (await client.get("/api/v1/certificates", headers=world.head)).text,
        (await client.get("/api/v1/certificates/register.csv", params=station, headers=world.head)).text,
        (await client.get("/api/v1/stats/export.csv", params={**station, **PERIOD}, headers=world.head)).text,
    ]
    assert all(ID_P0 not in text for text in seen)
    # A rejected number is not echoed back either.
    bad = await client.put(f"/api/v1/people/{p0.id}/identity", headers=world.head,
                           json={"id_type": "resident_id", "id_number": ID_P0[:-1] + "0"})  # fmt: skip
    assert (bad.status_code, error_code(bad)) == (422, "invalid_id_number")
    assert ID_P0[:-1] not in bad.text
    # The national export has them; the request logs of all of this have none.
    params: dict[str, str | int] = {"station_id": world.station.id, **PERIOD}
    national = await client.get("/api/v1/records/national.csv", params=params, headers=world.head)
    assert ID_P0 in national.content.decode("utf-8-sig")
    logged = captured.getvalue()
    assert "/api/v1/records/national.csv" in logged  # the requests were logged
    assert ID_P0 not in logged
    assert ID_P0[:-1] not in logged


async def test_libreoffice_opens_the_export_with_the_same_hours(
    client: httpx.AsyncClient, world: World, scenario: Scenario, tmp_path: Path
) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    await _register_two(client, world, scenario)
    params: dict[str, str | int] = {"station_id": world.station.id, **PERIOD}
    response = await client.get("/api/v1/records/national.xlsx", params=params, headers=world.head)
    workbook = tmp_path / "national.xlsx"
    workbook.write_bytes(response.content)
    profile = f"-env:UserInstallation=file://{tmp_path}/profile"  # no shared profile between runs
    as_csv = "csv:Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8
    command = [
        soffice,
        profile,
        "--headless",
        "--convert-to",
        as_csv,
        "--outdir",
        str(tmp_path),
        str(workbook),
    ]
    converted = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, timeout=120, check=False
    )
    assert converted.returncode == 0, converted.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "national.csv").read_text(encoding="utf-8"))))
    assert rows[1][:3] == ["志愿者姓名", "证件类型", "证件号码"]
    opened = sorted((row[2], float(row[8])) for row in rows[2:])
    book = load_workbook(io.BytesIO(response.content))
    written = sorted((row[2], row[8]) for row in book["服务时长记录"].iter_rows(min_row=3, values_only=True))
    assert opened == written
