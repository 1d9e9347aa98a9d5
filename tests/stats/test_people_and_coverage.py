"""A person's own record of hours, and the coverage of the support ledger."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.people.models import Resident
from tests.stats.scenario import Scenario
from tests.world import World


async def test_a_volunteer_reads_their_own_hours_by_month(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    p0 = scenario.history.people[0]
    response = await client.get(f"/api/v1/stats/people/{p0.id}", headers=scenario.volunteer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["activities"], body["hours"]) == (3, 4.67)
    assert body["by_month"] == [
        {"month": "2026-10", "activities": 1, "hours": 2.0},
        {"month": "2026-11", "activities": 1, "hours": 1.0},
        {"month": "2026-12", "activities": 1, "hours": 1.67},
    ]
    assert body["items"][2]["starts_at"].startswith("2026-12-01T01:00:00+08:00")
    # A period narrows it; another person's record is not theirs to read.
    november = {"from": "2026-11-01", "to": "2026-11-30"}
    narrowed = await client.get(f"/api/v1/stats/people/{p0.id}", params=november, headers=scenario.volunteer)
    assert narrowed.json()["activities"] == 1
    other = scenario.history.people[1]
    assert (
        await client.get(f"/api/v1/stats/people/{other.id}", headers=scenario.volunteer)
    ).status_code == 404
    assert (await client.get(f"/api/v1/stats/people/{other.id}", headers=world.organizer)).status_code == 200
    assert (
        await client.get(f"/api/v1/stats/people/{other.id}", headers=world.other_organizer)
    ).status_code == 404


async def test_coverage_lists_residents_not_visited_with_masked_phones(
    client: httpx.AsyncClient,
    world: World,
    scenario: Scenario,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    history = scenario.history
    async with sessionmaker() as session, session.begin():
        unvisited = await session.get_one(Resident, history.resident_ids[2])
        unvisited.phone = "+8613812345678"
    params = {"station_id": history.station.id, "days": 30}
    response = await client.get("/api/v1/stats/coverage", params=params, headers=world.organizer)
    assert response.status_code == 200, response.text
    body = response.json()
    # r0 and r1 were visited on 5 November (24 days before the clock); r2 never.
    assert (body["ledger"], body["served"]) == (3, 2)
    assert body["categories"] == [
        {"category": "empty_nest_elderly", "label": "空巢老人", "ledger": 3, "served": 2, "not_served": 1}
    ]
    assert [(r["id"], r["phone"], r["last_served_at"]) for r in body["not_visited"]] == [
        (history.resident_ids[2], "138****5678", None)
    ]
    assert body["personal_data_masked"] is True
    head = (await client.get("/api/v1/stats/coverage", params=params, headers=world.head)).json()
    assert head["not_visited"][0]["phone"] == "+8613812345678"
    # Looking back only 20 days, the November visits are too old.
    short = await client.get("/api/v1/stats/coverage", params={**params, "days": 20}, headers=world.head)
    assert short.json()["served"] == 0
    assert {r["last_served_at"][:10] for r in short.json()["not_visited"] if r["last_served_at"]} == {
        "2026-11-05"
    }
    foreign = await client.get("/api/v1/stats/coverage", params=params, headers=world.other_organizer)
    assert foreign.status_code == 404
    assert timedelta(days=30).days == body["days"]
