"""Who may read and change what, by role and station: staff of a station and admins may, staff of
another station get 404 (nothing revealed) or 403, a volunteer only what a volunteer may see.
(Case notes are narrower still: tests/visits/test_cases.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.world import World

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
