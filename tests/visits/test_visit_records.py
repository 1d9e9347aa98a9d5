"""Visit records: outcome, check-list, needs, follow-ups; bad input stores nothing."""

from __future__ import annotations

import httpx

from coordinator.attendance.models import ServiceRecord
from coordinator.visits.models import FollowUp, VisitRecord
from tests.world import World, error_code


async def test_a_visit_on_an_itinerary_is_recorded_with_follow_ups_and_counts_as_served(
    client: httpx.AsyncClient, world: World
) -> None:
    resident = await world.resident(categories=["extreme_poverty"])
    owner = await world.person()
    event = await world.event(theme="home_visit")
    body = {
        "resident_id": resident.id,
        "event_id": event.id,
        "outcome": "visited",
        "conditions": {"housing_safe": True, "food": False},
        "needs": ["medical", "income"],
        "notes": "腿脚不便",
        "follow_ups": [{"action": "联系村医上门", "owner_person_id": owner.id, "due_on": "2026-11-30"}],
    }
    answer = await client.post("/api/v1/visits/records", json=body, headers=world.organizer)
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert (stored["needs"], stored["conditions"]) == (
        ["income", "medical"],
        {"food": False, "housing_safe": True},
    )
    assert [(f["action"], f["owner_person_id"], f["overdue"]) for f in stored["follow_ups"]] == [
        ("联系村医上门", owner.id, False)
    ]
    assert await world.count(ServiceRecord) == 1
    again = await client.post("/api/v1/visits/records", json=body, headers=world.organizer)
    assert (again.status_code, error_code(again)) == (409, "visit_already_recorded")
    listed = await client.get(f"/api/v1/visits/records?resident_id={resident.id}", headers=world.organizer)
    assert [v["id"] for v in listed.json()] == [stored["id"]]
    follow_up = stored["follow_ups"][0]["id"]
    done = await client.post(f"/api/v1/visits/follow-ups/{follow_up}/done", headers=world.organizer)
    assert done.json()["done_at"] is not None


async def test_unknown_condition_need_or_owner_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, world: World
) -> None:
    resident = await world.resident()
    foreign_owner = await world.person(station=world.other)
    base: dict[str, object] = {"resident_id": resident.id, "outcome": "visited"}
    cases: list[tuple[dict[str, object], str]] = [
        ({"conditions": {"spaceship": True}}, "unknown_condition"),
        ({"needs": ["unicorns"]}, "unknown_need"),
        (
            {"follow_ups": [{"action": "x", "owner_person_id": foreign_owner.id, "due_on": "2026-12-01"}]},
            "unknown_owner",
        ),
    ]
    for extra, code in cases:
        answer = await client.post("/api/v1/visits/records", json={**base, **extra}, headers=world.organizer)
        assert (answer.status_code, error_code(answer)) == (422, code)
    assert await world.count(VisitRecord) == 0
    assert await world.count(FollowUp) == 0


async def test_visits_of_another_stations_resident_are_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    foreign = await world.resident(station=world.other)
    answer = await client.post(
        "/api/v1/visits/records",
        json={"resident_id": foreign.id, "outcome": "refused"},
        headers=world.organizer,
    )
    assert answer.status_code == 404
    refused = await client.post(
        "/api/v1/visits/records",
        json={"resident_id": foreign.id, "outcome": "refused"},
        headers=world.volunteer,
    )
    assert refused.status_code == 403
