"""The printable visit sheet: the itinerary's residents in order, with last needs and follow-ups."""

from __future__ import annotations

import re

import httpx
import pytest

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.db import transaction
from coordinator.stats import certificate
from coordinator.visits.sheet import sheet_rows
from tests.world import World


async def _itinerary(client: httpx.AsyncClient, world: World, residents: list[int]) -> int:
    body = {
        "station_id": world.station.id,
        "starts_at": "2026-11-30T09:00:00+08:00",
        "ends_at": "2026-11-30T12:00:00+08:00",
        "area": "营盘村三组",
        "resident_ids": residents,
    }
    answer = await client.post("/api/v1/visits/itineraries", json=body, headers=world.organizer)
    assert answer.status_code == 201, answer.text
    event_id: int = answer.json()["event_id"]
    return event_id


async def test_sheet_rows_carry_the_last_needs_and_open_follow_ups_in_walking_order(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await world.resident(address="营盘村三组1号", phone="+8613800002222")
    second = await world.resident(address="营盘村三组2号")
    for needs in (["housing"], ["medical", "income"]):
        await client.post(
            "/api/v1/visits/records",
            json={
                "resident_id": second.id,
                "outcome": "visited",
                "needs": needs,
                "follow_ups": [{"action": f"跟进{needs[0]}", "due_on": "2026-12-05"}],
            },
            headers=world.organizer,
        )
    event_id = await _itinerary(client, world, [second.id, first.id])
    principal = Principal(user_id=1, role=Role.admin, station_ids=frozenset())
    async with transaction(world.sessionmaker) as session:
        _, rows, items = await sheet_rows(
            session=session, clock=world.clock, principal=principal, event_id=event_id
        )
    assert [r.stop.resident.id for r in rows] == [second.id, first.id]
    assert rows[0].last_needs == ["income", "medical"]
    assert [f.action for f in rows[0].follow_ups] == ["跟进housing", "跟进medical"]
    assert (rows[1].last_needs, rows[1].follow_ups) == ([], [])
    assert [i["code"] for i in items][:2] == ["housing_safe", "water_power"]


async def test_sheet_is_an_a4_pdf_with_the_font_embedded(client: httpx.AsyncClient, world: World) -> None:
    if certificate.find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    residents = [(await world.resident(address=f"营盘村三组{n}号")).id for n in range(1, 13)]
    event_id = await _itinerary(client, world, residents)
    answer = await client.get(f"/api/v1/visits/itineraries/{event_id}/sheet.pdf", headers=world.organizer)
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"%PDF-")
    assert b"/FontFile" in answer.content
    assert b"/MediaBox [0 0 595.28 841.89]" in answer.content  # A4
    assert len(re.findall(rb"/Type /Page\b", answer.content)) >= 2  # twelve residents need two pages
    assert f'filename="visit-sheet-event-{event_id}.pdf"' in answer.headers["content-disposition"]
    other = await client.get(
        f"/api/v1/visits/itineraries/{event_id}/sheet.pdf", headers=world.other_organizer
    )
    assert other.status_code == 404
