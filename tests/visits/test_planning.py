"""Planning rounds of home visits from the due list, and publishing one as a home_visit event."""

from __future__ import annotations

from datetime import timedelta

import httpx

from coordinator.events.models import Event, SignupStatus
from tests.world import World, error_code

TOMORROW = "2026-11-30"


async def _ledger(world: World) -> dict[str, list[int]]:
    joined = world.clock.now() - timedelta(days=45)
    areas: dict[str, list[str | None]] = {"营盘村三组": ["miao", None, None], "高坡村一组": [None, None]}
    out: dict[str, list[int]] = {}
    for area, languages in areas.items():
        for n, language in enumerate(languages):
            resident = await world.resident(
                categories=["extreme_poverty"],
                address=f"{area}{n + 1}号",
                language=language,
                created_at=joined,
            )
            out.setdefault(area, []).append(resident.id)
    return out


async def test_plan_groups_due_residents_by_area_with_a_trained_lead_and_a_companion(
    client: httpx.AsyncClient, world: World
) -> None:
    areas = await _ledger(world)
    worker = await world.person(is_social_worker=True, languages=["miao"])
    trained = await world.person(skills=["home_visit"])
    helpers = await world.people(2)
    answer = await client.post(
        "/api/v1/visits/plan",
        json={"station_id": world.station.id, "dates": [TOMORROW], "stops_per_itinerary": 3},
        headers=world.organizer,
    )
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan["unplanned"] == 0
    by_area = {i["area"]: i for i in plan["itineraries"]}
    assert {a: [s["resident_id"] for s in i["stops"]] for a, i in by_area.items()} == areas
    leads = {a: i["visitors"][0] for a, i in by_area.items()}
    assert {lead["role"] for lead in leads.values()} == {"lead"}
    # The Miao-speaking social worker goes where a resident speaks Miao.
    assert leads["营盘村三组"]["person_id"] == worker.id
    assert leads["高坡村一组"]["person_id"] == trained.id
    assert "language" in {r["code"] for r in leads["营盘村三组"]["reasons"]}
    everyone = [v["person_id"] for i in plan["itineraries"] for v in i["visitors"]]
    assert len(everyone) == len(set(everyone)) == 4  # one round each: the rounds share their hours
    assert set(everyone) == {worker.id, trained.id, *(p.id for p in helpers)}
    assert all(i["starts_at"] == "2026-11-30T09:00:00+08:00" for i in plan["itineraries"])


async def test_without_a_trained_visitor_the_lead_stays_open(client: httpx.AsyncClient, world: World) -> None:
    await _ledger(world)
    await world.people(2)
    answer = await client.post(
        "/api/v1/visits/plan",
        json={"station_id": world.station.id, "dates": [TOMORROW]},
        headers=world.organizer,
    )
    itinerary = answer.json()["itineraries"][0]
    assert itinerary["unfilled"] == ["lead"]
    assert [v["role"] for v in itinerary["visitors"]] == ["companion"]


async def test_publishing_an_itinerary_makes_a_home_visit_event_with_residents_and_confirmed_visitors(
    client: httpx.AsyncClient, world: World
) -> None:
    areas = await _ledger(world)
    worker = await world.person(is_social_worker=True)
    helper = await world.person()
    body = {
        "station_id": world.station.id,
        "starts_at": "2026-11-30T09:00:00+08:00",
        "ends_at": "2026-11-30T12:00:00+08:00",
        "area": "营盘村三组",
        "resident_ids": list(reversed(areas["营盘村三组"])),
        "visitors": [{"person_id": worker.id, "role": "lead"}, {"person_id": helper.id, "role": "companion"}],
        "mode": "confirm",
    }
    answer = await client.post("/api/v1/visits/itineraries", json=body, headers=world.organizer)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["status"] == "published"
    assert [(v["person_id"], v["applied"], v["status"]) for v in created["visitors"]] == [
        (worker.id, True, "confirmed"),
        (helper.id, True, "confirmed"),
    ]
    event_id = created["event_id"]
    assert await world.status_of(event_id, worker.id) == [SignupStatus.confirmed]
    stops = await client.get(f"/api/v1/visits/itineraries/{event_id}", headers=world.organizer)
    assert [s["resident_id"] for s in stops.json()["stops"]] == list(reversed(areas["营盘村三组"]))
    assert stops.json()["stops"][0]["days_overdue"] == 45
    due = await client.get(f"/api/v1/visits/due?station_id={world.station.id}", headers=world.organizer)
    planned = {i["resident_id"]: i["planned_event_id"] for i in due.json()["items"]}
    assert {planned[rid] for rid in areas["营盘村三组"]} == {event_id}
    replanned = await client.post(
        "/api/v1/visits/plan",
        json={"station_id": world.station.id, "dates": [TOMORROW]},
        headers=world.organizer,
    )
    assert [i["area"] for i in replanned.json()["itineraries"]] == ["高坡村一组"]
    assert await world.outbox() == ["EventCreated", "EventPublished", "SignupConfirmed", "SignupConfirmed"]
    await world.deliver_events()
    # Reminded as for any event.
    assert {n.reason for n in await world.notifications(person_id=worker.id)} == {"reminder"}


async def test_an_itinerary_with_another_stations_resident_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, world: World
) -> None:
    foreign = await world.resident(station=world.other)
    body = {
        "station_id": world.station.id,
        "starts_at": "2026-11-30T09:00:00+08:00",
        "ends_at": "2026-11-30T12:00:00+08:00",
        "area": "营盘村三组",
        "resident_ids": [foreign.id],
    }
    answer = await client.post("/api/v1/visits/itineraries", json=body, headers=world.organizer)
    assert (answer.status_code, error_code(answer)) == (422, "unknown_resident")
    assert await world.count(Event) == 0
    past = await client.post(
        "/api/v1/visits/plan",
        json={"station_id": world.station.id, "dates": ["2026-11-01"]},
        headers=world.organizer,
    )
    assert (past.status_code, error_code(past)) == (422, "date_in_past")
