"""Supervision visits: findings against the check-list with follow-ups, closing them, who sees
what, shared cases of exchange sessions and showcases, and the statistics of all of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.regions import make_province, region_staff
from tests.world import Headers, World, error_code

API = "/api/v1"


def _visit(world: World, **fields: Any) -> dict[str, Any]:
    today = world.clock.now().date()
    return {
        "station_id": world.station.id,
        "visited_on": today.isoformat(),
        "supervisor": "马督导",
        "findings": [
            {"item": "ledger_kept", "met": True},
            {"item": "records_complete", "met": False, "note": "11月活动缺签到表",
             "follow_up": "补齐签到表并归档", "due_on": (today + timedelta(days=14)).isoformat()},
            {"item": "activities_held", "met": False, "follow_up": "按月开展活动",
             "due_on": (today + timedelta(days=30)).isoformat()},
        ],
        **fields,
    }  # fmt: skip


async def _record(client: httpx.AsyncClient, headers: Headers, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{API}/supervision/visits", json=body, headers=headers)


async def test_a_visit_records_findings_and_their_follow_ups(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)

    recorded = await _record(client, county, _visit(world))

    assert recorded.status_code == 201, recorded.text
    findings = recorded.json()["findings"]
    assert [(f["item"], f["status"]) for f in findings] == [
        ("ledger_kept", "met"), ("records_complete", "open"), ("activities_held", "open")
    ]  # fmt: skip
    assert findings[1]["label"] == "档案资料齐全"
    closed = await client.post(
        f"{API}/supervision/findings/{findings[1]['id']}/close", json={"note": "已补齐"}, headers=world.head
    )
    again = await client.post(
        f"{API}/supervision/findings/{findings[1]['id']}/close", json={}, headers=county
    )
    assert (closed.status_code, closed.json()["status"], closed.json()["closing_note"]) == (
        200,
        "closed",
        "已补齐",
    )
    assert (again.status_code, error_code(again)) == (409, "finding_not_open")
    shown = await client.get(f"{API}/supervision/visits/{recorded.json()['id']}", headers=world.organizer)
    assert [f["status"] for f in shown.json()["findings"]] == ["met", "closed", "open"]


async def test_bad_visits_store_nothing(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)
    no_follow_up = _visit(world)
    no_follow_up["findings"][1].pop("due_on")
    unknown_item = _visit(world, findings=[{"item": "coffee_served", "met": True}])
    twice = _visit(world, findings=[{"item": "ledger_kept", "met": True}] * 2)

    answers = [await _record(client, county, body) for body in (no_follow_up, unknown_item, twice)]
    by_station_head = await _record(client, world.head, _visit(world))
    other_county = await _record(client, await region_staff(world, province.other_county), _visit(world))

    assert [(a.status_code, error_code(a)) for a in answers] == [
        (422, "follow_up_required"), (422, "unknown_checklist_item"), (422, "duplicate_item")
    ]  # fmt: skip
    assert (by_station_head.status_code, error_code(by_station_head)) == (403, "supervisor_only")
    assert other_county.status_code == 404
    listed = await client.get(f"{API}/supervision/visits", headers=world.admin)
    assert listed.json()["items"] == []


async def test_other_stations_see_nothing_of_a_visit(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)
    visit = (await _record(client, county, _visit(world))).json()
    finding = visit["findings"][1]["id"]

    for headers in (
        world.other_head,
        world.other_organizer,
        await region_staff(world, province.other_county),
    ):
        assert (
            await client.get(f"{API}/supervision/visits/{visit['id']}", headers=headers)
        ).status_code == 404
        closing = await client.post(f"{API}/supervision/findings/{finding}/close", json={}, headers=headers)
        assert closing.status_code == 404
        assert (await client.get(f"{API}/supervision/visits", headers=headers)).json()["items"] == []
    volunteer = await client.get(f"{API}/supervision/visits/{visit['id']}", headers=world.volunteer)
    assert volunteer.status_code == 403
    shown = await client.get(f"{API}/supervision/visits/{visit['id']}", headers=world.head)
    assert [f["status"] for f in shown.json()["findings"]] == ["met", "open", "open"]


async def test_statistics_count_visits_findings_and_shared_cases(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    county = await region_staff(world, province.county)
    visit = (await _record(client, county, _visit(world))).json()
    await client.post(
        f"{API}/supervision/findings/{visit['findings'][2]['id']}/close", json={}, headers=world.head
    )
    showcase = await world.event(theme="case_showcase")
    drive = await world.event()
    shared = await client.put(f"{API}/events/{showcase.id}/shared-cases", json={"cases": 12}, headers=county)
    changed = await client.put(f"{API}/events/{showcase.id}/shared-cases", json={"cases": 15}, headers=county)
    not_sharing = await client.put(f"{API}/events/{drive.id}/shared-cases", json={"cases": 3}, headers=county)
    elsewhere = await client.put(
        f"{API}/events/{showcase.id}/shared-cases", json={"cases": 1}, headers=world.other_head
    )
    world.clock.set(world.clock.now() + timedelta(days=20))  # the first follow-up is overdue now
    city = await region_staff(world, province.city)  # logged in now
    other_county = await region_staff(world, province.other_county)

    stats = await client.get(f"{API}/stats/supervision", params={"region_id": province.city.id}, headers=city)
    station = await client.get(
        f"{API}/stats/supervision", params={"station_id": world.other.id}, headers=other_county
    )

    assert (shared.status_code, changed.json()["cases"]) == (200, 15)
    assert (not_sharing.status_code, error_code(not_sharing)) == (422, "not_a_sharing_event")
    assert elsewhere.status_code == 404
    totals = stats.json()["totals"]
    figures = ("visits", "stations_visited", "items_met", "findings_open", "findings_overdue",
               "findings_closed", "sharing_events", "shared_cases")  # fmt: skip
    assert [totals[k] for k in figures] == [1, 1, 1, 1, 1, 1, 1, 15]
    assert [(r["region_id"], r["visits"]) for r in stats.json()["rows"]] == [
        (province.county.id, 1), (province.other_county.id, 0)
    ]  # fmt: skip
    assert station.json()["totals"]["visits"] == 0
