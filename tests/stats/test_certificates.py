"""The certificate register: issue, print, verify through the QR code's page, revoke, re-issue,
list and export; the printed text reads in order with pypdf and with poppler."""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import subprocess
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from coordinator.stats import certificate as certificate_pdf
from tests.records_helpers import resident_id, set_identity
from tests.stats.scenario import Scenario
from tests.world import World, error_code

ISSUER = {"person_in_charge": "王建国", "handler": "李娟", "contact": "0855-1234567"}
ID_NUMBER = resident_id("52260119900101123")


async def _issue(
    client: httpx.AsyncClient, world: World, scenario: Scenario, **extra: object
) -> dict[str, Any]:
    p0 = scenario.history.people[0]
    await set_identity(client, world.head, p0.id, ID_NUMBER, "52260100012345")
    response = await client.post("/api/v1/certificates", json={"person_id": p0.id, **ISSUER, **extra},
                                 headers=world.organizer)  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _verify(client: httpx.AsyncClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return await client.get(f"{parts.path}?{parts.query}")


def _verdict(page: httpx.Response) -> str:
    found = re.search(r'data-verdict="(\w+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def test_a_certificate_verifies_until_revoked_and_its_reissue_takes_over(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    issued = await _issue(client, world, scenario)
    p0 = scenario.history.people[0]
    assert (issued["hours"], issued["activities"]) == (4.67, 3)
    assert (issued["from"], issued["to"]) == ("2026-10-15", "2026-12-01")
    assert issued["id_number_masked"] == "*" * 14 + ID_NUMBER[-4:]
    page = await _verify(client, issued["verify_url"])
    assert (page.status_code, _verdict(page)) == (200, "valid")
    assert issued["number"] in page.text
    assert "4.67" in page.text
    assert p0.name not in page.text  # the name only masked
    assert ID_NUMBER not in page.text
    assert ID_NUMBER[-4:] not in page.text

    url = f"/api/v1/certificates/{issued['id']}"
    revoked = await client.post(f"{url}/revoke", json={"reason": "时长录入有误"}, headers=world.organizer)
    assert revoked.status_code == 200, revoked.text
    assert _verdict(await _verify(client, issued["verify_url"])) == "revoked"
    again = await client.post(f"{url}/revoke", json={"reason": "再次"}, headers=world.organizer)
    assert (again.status_code, error_code(again)) == (409, "certificate_revoked")

    change = {"reason": "补录", "handler": "张敏"}
    reissued = await client.post(f"{url}/reissue", json=change, headers=world.organizer)
    assert reissued.status_code == 409  # already revoked: re-issue revokes a valid one
    second = await _issue(client, world, scenario)
    third = await client.post(f"/api/v1/certificates/{second['id']}/reissue", json=change,
                              headers=world.organizer)  # fmt: skip
    assert third.status_code == 201, third.text
    assert (third.json()["replaces_id"], third.json()["handler"], third.json()["contact"]) == (
        second["id"], "张敏", ISSUER["contact"])  # fmt: skip
    assert _verdict(await _verify(client, second["verify_url"])) == "revoked"
    assert _verdict(await _verify(client, third.json()["verify_url"])) == "valid"


async def test_a_changed_number_hours_or_code_does_not_verify(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    issued = await _issue(client, world, scenario)
    other = await _issue(client, world, scenario, **{"from": "2026-11-01", "to": "2026-11-30"})
    url = issued["verify_url"]
    number = issued["number"]
    unknown = number[:-1] + ("1" if number.endswith("0") else "0")  # one character off
    altered = [
        url.replace("h=4.67", "h=9.67"),  # the hours printed larger
        url.replace(number, other["number"]),  # another real number, this code
        url.replace(number, unknown),  # a number not in the register
        re.sub(r"c=\w+", "c=" + "0" * 20, url),  # a made-up code
        url.split("?")[0],  # the number alone
    ]
    for forged in altered:
        page = await _verify(client, forged)
        assert (page.status_code, _verdict(page)) == (404, "invalid"), forged
        assert "服务时长 Hours" not in page.text  # no details of a certificate that does not verify


async def test_the_pdf_reads_in_order_with_the_name_on_its_sentences_line(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    if certificate_pdf.find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    issued = await _issue(client, world, scenario)
    p0 = scenario.history.people[0]
    response = await client.get(f"/api/v1/certificates/{issued['id']}.pdf", headers=scenario.volunteer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert b"/FontFile" in response.content  # the CJK font is embedded, so it prints anywhere
    number = issued["number"]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="certificate-{number}.pdf"; '
        f"filename*=UTF-8''{quote(f'志愿服务记录证明_{number}.pdf', safe='')}"
    )
    pages = PdfReader(io.BytesIO(response.content)).pages
    texts = {"pypdf": "\n".join(page.extract_text() for page in pages)}
    pdftotext = shutil.which("pdftotext")
    if pdftotext is not None:
        poppler = await asyncio.to_thread(
            subprocess.run, [pdftotext, "-", "-"], input=response.content, capture_output=True, check=True
        )
        texts["poppler"] = poppler.stdout.decode()
    elif "CI" in os.environ:
        pytest.fail("pdftotext (poppler-utils) is missing")
    expected_order = [
        "志愿服务记录证明", f"证明编号：{number}", f"兹证明{p0.name}（居民身份证：",
        "志愿者编号：52260100012345",
        "于2026年10月15日至2026年12月1日", "累计志愿服务时长4.67小时", "日期", "合计", "特此证明", "说明",
        "实际提供志愿服务的时间", "出具单位", "负责人：王建国", "经办人：李娟", "联系电话：0855-1234567",
    ]  # fmt: skip
    for tool, text in texts.items():
        lines = [re.sub(r"\s+", "", line) for line in text.splitlines() if line.strip()]
        flat = "".join(lines)
        at = 0
        for part in expected_order:  # each one after the one before
            found = flat.find(re.sub(r"\s+", "", part), at)
            assert found >= 0, (tool, part, flat[at:])
            at = found + 1
        assert any(line.startswith(f"兹证明{p0.name}") for line in lines), (tool, lines)
        assert ID_NUMBER not in flat


async def test_staff_list_and_export_the_register_and_a_volunteer_reads_only_their_own(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    issued = await _issue(client, world, scenario)
    await client.post(f"/api/v1/certificates/{issued['id']}/revoke", json={"reason": "姓名有误"},
                      headers=world.organizer)  # fmt: skip
    listed = await client.get("/api/v1/certificates", params={"station_id": world.station.id},
                              headers=world.organizer)  # fmt: skip
    assert [c["number"] for c in listed.json()["items"]] == [issued["number"]]
    assert listed.json()["items"][0]["revoke_reason"] == "姓名有误"
    other_station = await client.get("/api/v1/certificates", headers=world.other_organizer)
    assert other_station.json()["items"] == []
    sheet = await client.get("/api/v1/certificates/register.xlsx", params={"station_id": world.station.id},
                             headers=world.organizer)  # fmt: skip
    assert sheet.status_code == 200, sheet.text
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("证明编号", "志愿者", "志愿者编号")
    assert (rows[2][0], rows[2][10], rows[2][12]) == (issued["number"], "已撤销", "姓名有误")
    csv = await client.get("/api/v1/certificates/register.csv", params={"station_id": world.station.id},
                           headers=world.organizer)  # fmt: skip
    assert issued["number"] in csv.content.decode("utf-8-sig")
    # The volunteer reads their own certificate; nobody else's, and issues none.
    mine = await client.get(f"/api/v1/certificates/{issued['id']}", headers=scenario.volunteer)
    assert mine.status_code == 200
    p1 = scenario.history.people[1]
    not_theirs = await client.get(f"/api/v1/certificates/{issued['id']}",
                                  headers=await world.volunteer_headers(p1))  # fmt: skip
    assert not_theirs.status_code == 404
    self_issued = await client.post("/api/v1/certificates", json={"person_id": p1.id, **ISSUER},
                                    headers=scenario.volunteer)  # fmt: skip
    assert self_issued.status_code == 403
    elsewhere = await client.get(f"/api/v1/certificates/{issued['id']}.pdf", headers=world.other_organizer)
    assert elsewhere.status_code == 404


async def test_nothing_to_certify_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    p0 = scenario.history.people[0]
    body = {"person_id": p0.id, "from": "2025-01-01", "to": "2025-12-31", **ISSUER}
    response = await client.post("/api/v1/certificates", json=body, headers=world.organizer)
    assert (response.status_code, error_code(response)) == (409, "nothing_to_certify")
    listed = await client.get("/api/v1/certificates", headers=world.organizer)
    assert listed.json()["items"] == []


async def test_printing_without_a_cjk_font_says_what_to_install(
    client: httpx.AsyncClient, world: World, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = await _issue(client, world, scenario)
    monkeypatch.setattr(certificate_pdf, "find_cjk_font", lambda: None)
    response = await client.get(f"/api/v1/certificates/{issued['id']}.pdf", headers=world.organizer)
    assert (response.status_code, error_code(response)) == (503, "cjk_font_missing")
    assert "fonts-wqy-microhei" in response.json()["error"]["message_en"]


async def test_two_concurrent_reissues_of_one_certificate_make_one_new_certificate(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    issued = await _issue(client, world, scenario)
    url = f"/api/v1/certificates/{issued['id']}/reissue"
    answers = await asyncio.gather(
        *(client.post(url, json={"reason": f"补录{i}"}, headers=world.organizer) for i in range(4))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    listed = await client.get("/api/v1/certificates", headers=world.organizer)
    valid = [c for c in listed.json()["items"] if c["revoked_at"] is None]
    assert [c["replaces_id"] for c in valid] == [issued["id"]]
