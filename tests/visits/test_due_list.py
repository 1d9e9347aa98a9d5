"""Visit policies and the due list: who is overdue or due soon, by the policies of their categories."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from coordinator.visits.models import VisitPolicy
from tests.visits.visit_world import ledger, visit
from tests.world import World, error_code


async def test_default_policies_and_a_head_replaces_them(client: httpx.AsyncClient, world: World) -> None:
    url = f"/api/v1/visits/policies?station_id={world.station.id}"
    default = await client.get(url, headers=world.organizer)
    assert default.json()["policies"]["extreme_poverty"] == 30
    assert default.json()["policies"]["low_income"] == 90
    refused = await client.put(url, json={"policies": {"low_income": 60}}, headers=world.organizer)
    assert refused.status_code == 403
    changed = await client.put(url, json={"policies": {"low_income": 60, "disabled": 7}}, headers=world.head)
    assert changed.status_code == 200, changed.text
    assert (await client.get(url, headers=world.organizer)).json()["policies"] == {
        "disabled": 7,
        "low_income": 60,
    }


async def test_unknown_category_is_refused_and_keeps_the_stored_policies(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/v1/visits/policies?station_id={world.station.id}"
    await client.put(url, json={"policies": {"low_income": 60}}, headers=world.head)
    bad = await client.put(url, json={"policies": {"low_income": 30, "aliens": 3}}, headers=world.head)
    assert (bad.status_code, error_code(bad)) == (422, "unknown_category")
    assert await world.count(VisitPolicy) == 1
    assert (await client.get(url, headers=world.head)).json()["policies"] == {"low_income": 60}


async def test_due_list_shows_overdue_and_due_soon_with_area_and_masked_phone(
    client: httpx.AsyncClient, world: World
) -> None:
    people = await ledger(world)
    answer = await client.get(f"/api/v1/visits/due?station_id={world.station.id}", headers=world.organizer)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [i["resident_id"] for i in items] == [people.overdue.id, people.due_soon.id]
    first, second = items
    assert (first["days_overdue"], first["policy_category"], first["area"]) == (
        60,
        "extreme_poverty",
        "营盘村三组",
    )
    assert first["last_visited_at"] is None
    assert first["phone"] != "+8613800001111"
    assert (second["days_overdue"], second["due_on"], second["interval_days"]) == (0, "2026-12-03", 14)
    head = await client.get(f"/api/v1/visits/due?station_id={world.station.id}", headers=world.head)
    assert head.json()["items"][0]["phone"] == "+8613800001111"


async def test_due_list_filters(client: httpx.AsyncClient, world: World) -> None:
    people = await ledger(world)
    base = f"/api/v1/visits/due?station_id={world.station.id}"

    async def ids(query: str) -> list[int]:
        answer = await client.get(base + query, headers=world.organizer)
        assert answer.status_code == 200, answer.text
        return [i["resident_id"] for i in answer.json()["items"]]

    assert await ids("&overdue_only=true") == [people.overdue.id]
    assert await ids("&category=empty_nest_elderly") == [people.due_soon.id]
    assert await ids("&area=高坡村一组&within_days=90") == [people.not_due.id]
    assert await ids("&within_days=0") == [people.overdue.id]
    assert await ids("&limit=1") == [people.overdue.id]
    page = (await client.get(base + "&limit=1", headers=world.organizer)).json()
    assert await ids(f"&limit=1&cursor={page['next_cursor']}") == [people.due_soon.id]


async def test_a_visit_takes_a_resident_off_the_due_list_but_not_at_home_does_not(
    client: httpx.AsyncClient, world: World
) -> None:
    people = await ledger(world)
    url = f"/api/v1/visits/due?station_id={world.station.id}&overdue_only=true"
    await visit(world, people.overdue, 1, outcome="not_at_home")
    assert [i["resident_id"] for i in (await client.get(url, headers=world.organizer)).json()["items"]] == [
        people.overdue.id
    ]
    await visit(world, people.overdue, 0)
    assert (await client.get(url, headers=world.organizer)).json()["items"] == []


async def test_county_due_list_covers_the_stations_the_caller_sees(
    client: httpx.AsyncClient, world: World
) -> None:
    people = await ledger(world)
    county = await client.get("/api/v1/visits/due?overdue_only=true", headers=world.admin)
    assert {i["resident_id"] for i in county.json()["items"]} == {people.overdue.id, people.foreign.id}
    mine = await client.get("/api/v1/visits/due?overdue_only=true", headers=world.organizer)
    assert [i["resident_id"] for i in mine.json()["items"]] == [people.overdue.id]
    other = await client.get(f"/api/v1/visits/due?station_id={world.other.id}", headers=world.organizer)
    assert other.status_code == 404
    volunteer = await client.get("/api/v1/visits/due", headers=world.volunteer)
    assert volunteer.status_code == 403


async def test_county_pages_follow_each_stations_policies_and_count_the_whole_list(
    client: httpx.AsyncClient, world: World
) -> None:
    people = await ledger(world)
    url = f"/api/v1/visits/policies?station_id={world.station.id}"
    policies = {"extreme_poverty": 30, "low_income": 7, "disabled": 30, "left_behind_elderly": 30}
    assert (await client.put(url, json={"policies": policies}, headers=world.head)).status_code == 200
    joined = world.clock.now() - timedelta(days=60)
    tie = await world.resident(categories=["left_behind_elderly", "disabled"], created_at=joined)
    base = "/api/v1/visits/due?within_days=0&limit=2"
    first = (await client.get(base, headers=world.admin)).json()
    assert [i["resident_id"] for i in first["items"]] == [people.overdue.id, people.foreign.id]
    assert first["total"] == 4
    second = (await client.get(f"{base}&cursor={first['next_cursor']}", headers=world.admin)).json()
    # low_income is visited weekly here: ten days after the visit it is three days overdue.
    assert [(i["resident_id"], i["policy_category"], i["days_overdue"]) for i in second["items"]] == [
        (tie.id, "disabled", 60),
        (people.not_due.id, "low_income", 3),
    ]
    assert (second["total"], second["next_cursor"]) == (4, None)
    past = (await client.get(f"{base}&cursor=2099-01-01_1", headers=world.admin)).json()
    assert (past["items"], past["total"]) == ([], 4)
    bad = await client.get(f"{base}&cursor=2026-13-01_1", headers=world.admin)
    assert (bad.status_code, error_code(bad)) == (422, "invalid_cursor")


async def test_concurrent_policy_and_checklist_writes_leave_one_whole_set(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/v1/visits/policies?station_id={world.station.id}"
    sets = [{"low_income": 60 + n, "disabled": 7 + n, "extreme_poverty": 30} for n in range(4)]
    answers = await asyncio.gather(*(client.put(url, json={"policies": p}, headers=world.head) for p in sets))
    assert [a.status_code for a in answers] == [200] * 4
    stored = (await client.get(url, headers=world.head)).json()["policies"]
    assert stored in sets
    assert await world.count(VisitPolicy) == 3
    checklist = f"/api/v1/visits/checklist?station_id={world.station.id}"
    items = [{"items": [{"code": f"c{n}", "label": f"检查{n}"}]} for n in range(3)]
    written = await asyncio.gather(*(client.put(checklist, json=i, headers=world.head) for i in items))
    assert [a.status_code for a in written] == [200] * 3
    assert (await client.get(checklist, headers=world.head)).json()["items"] in [i["items"] for i in items]
