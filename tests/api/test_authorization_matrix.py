"""Who may read and change what, by role and station: staff of a station and admins may, staff of
another station get 404 (nothing revealed) or 403, a volunteer only what a volunteer may see.
(Case notes are narrower still: tests/visits/test_cases.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.regions import make_province, region_staff
from tests.world import Headers, World

API = "/api/v1"
ROLES = ["admin", "head", "organizer", "other_head", "other_organizer", "volunteer"]
STAFF_OF_STATION = {"admin", "head", "organizer"}


def _operations(ids: dict[str, int]) -> list[tuple[str, str, dict[str, Any] | None, set[str]]]:
    """Method, path, JSON body, and the roles allowed; every other role is refused."""
    event, person, resident, station = ids["event"], ids["person"], ids["resident"], ids["station"]
    return [
        ("GET", f"/events/{event}", None, STAFF_OF_STATION | {"volunteer"}),
        ("GET", f"/events/{event}/signups", None, STAFF_OF_STATION),
        ("GET", f"/events/{event}.ics", None, STAFF_OF_STATION | {"volunteer"}),
        ("GET", f"/events/{event}/checkin-code", None, STAFF_OF_STATION),
        ("PATCH", f"/events/{event}", {"location": "营盘坡3组"}, STAFF_OF_STATION),
        ("POST", f"/events/{event}/match", {}, STAFF_OF_STATION),
        ("GET", f"/people/{person}", None, STAFF_OF_STATION),
        ("PATCH", f"/people/{person}", {"skills": []}, STAFF_OF_STATION),
        ("GET", f"/residents/{resident}", None, STAFF_OF_STATION),
        ("GET", f"/stations/{station}/organizations", None, STAFF_OF_STATION | {"volunteer"}),
        ("GET", "/stats/participation", None, STAFF_OF_STATION),
        ("GET", f"/notifications?person={person}", None, STAFF_OF_STATION),
        ("GET", f"/visits/due?station_id={station}", None, STAFF_OF_STATION),
        ("GET", f"/visits/policies?station_id={station}", None, STAFF_OF_STATION),
        ("GET", f"/visits/records?resident_id={resident}", None, STAFF_OF_STATION),
        ("GET", f"/residents/{resident}/timeline", None, STAFF_OF_STATION),
        ("GET", f"/cases?station_id={station}", None, STAFF_OF_STATION),
        ("GET", "/stats/visit-coverage", None, STAFF_OF_STATION),
    ]


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_reaches_only_its_own_station(
    client: httpx.AsyncClient, world: World, role: str
) -> None:
    event = await world.event()
    person = await world.person()
    resident = await world.resident()
    ids = {"event": event.id, "person": person.id, "resident": resident.id, "station": world.station.id}
    headers = getattr(world, role)
    for method, path, body, allowed in _operations(ids):
        params = {"station_id": world.station.id} if path.startswith("/stats") else None
        response = await client.request(method, API + path, params=params, json=body, headers=headers)
        if role in allowed:
            assert response.status_code < 400, (role, method, path, response.text)
        else:
            assert response.status_code in (403, 404), (role, method, path, response.status_code)
    # Nothing a refused role asked for changed the stored event.
    shown = (await client.get(f"{API}/events/{event.id}", headers=world.organizer)).json()
    expected = "营盘坡3组" if role in STAFF_OF_STATION else event.location
    assert shown["location"] == expected


@pytest.mark.parametrize("level", ["county", "province", "other_county"])
async def test_region_staff_reach_the_stations_below_their_region_only(
    client: httpx.AsyncClient, world: World, level: str
) -> None:
    """A region's organizers may do what the station's organizer may, at every station below the
    region, and nothing at a station outside it."""
    province = await make_province(world)
    headers = await region_staff(world, getattr(province, level))
    event = await world.event()
    person = await world.person()
    resident = await world.resident()
    ids = {"event": event.id, "person": person.id, "resident": resident.id, "station": world.station.id}
    below = level != "other_county"
    for method, path, body, allowed in _operations(ids):
        params = {"station_id": world.station.id} if path.startswith("/stats") else None
        response = await client.request(method, API + path, params=params, json=body, headers=headers)
        if below and "organizer" in allowed:
            assert response.status_code < 400, (level, method, path, response.text)
        else:
            assert response.status_code in (403, 404), (level, method, path, response.status_code)


REGION_ROLES = ["admin", "county", "other_county", "head", "other_head", "volunteer"]


async def _region_ids(client: httpx.AsyncClient, world: World) -> tuple[dict[str, int], dict[str, Headers]]:
    """A county's course and a supervision visit to ``world.station`` (in that county), and the
    headers of each role of ``REGION_ROLES``."""
    province = await make_province(world)
    headers = {
        "admin": world.admin, "head": world.head, "other_head": world.other_head,
        "volunteer": world.volunteer,
        "county": await region_staff(world, province.county),
        "other_county": await region_staff(world, province.other_county),
    }  # fmt: skip
    course = await client.post(
        f"{API}/courses",
        json={"topic": "社工实务", "region_id": province.county.id, "target_classes": ["social_worker"],
              "capacity": 10},
        headers=headers["county"],
    )  # fmt: skip
    visit = await client.post(
        f"{API}/supervision/visits",
        json={"station_id": world.station.id, "visited_on": "2026-11-28", "supervisor": "马督导",
              "findings": [{"item": "ledger_kept", "met": True}]},
        headers=headers["county"],
    )  # fmt: skip
    ids = {"course": course.json()["id"], "visit": visit.json()["id"], "county": province.county.id}
    return ids, headers


@pytest.mark.parametrize("role", REGION_ROLES)
async def test_training_and_supervision_stay_within_region_and_station(
    client: httpx.AsyncClient, world: World, role: str
) -> None:
    ids, headers = await _region_ids(client, world)
    course, visit, county = ids["course"], ids["visit"], ids["county"]
    manage = {"admin", "county"}
    operations: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
        ("GET", f"/courses/{course}", None, manage | {"head", "volunteer"}),  # open to its stations
        ("GET", f"/courses/{course}/enrolments", None, manage),
        ("GET", f"/supervision/visits/{visit}", None, manage | {"head"}),
        ("GET", f"/stats/training?region_id={county}", None, manage),
        ("GET", f"/stats/supervision?region_id={county}", None, manage),
        ("GET", f"/stats/supervision?station_id={world.station.id}", None, manage | {"head"}),
    ]
    for method, path, body, allowed in operations:
        response = await client.request(method, API + path, json=body, headers=headers[role])
        if role in allowed:
            assert response.status_code < 400, (role, method, path, response.text)
        else:
            assert response.status_code in (403, 404), (role, method, path, response.status_code)
