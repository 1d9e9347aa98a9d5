"""Ids and dates a client makes up: refused with a 4xx that names the field, never a 500,
and nothing stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from coordinator.events.models import Event, EventSeries, Signup
from coordinator.fields import MAX_ID
from tests.world import World, error_code

# One past PostgreSQL's ``integer`` columns, and one past SQLite's 64-bit integers.
BEYOND = [pytest.param(MAX_ID + 1, id="int4"), pytest.param(2**63, id="int8")]
API = "/api/v1"


@pytest.mark.parametrize("big", BEYOND)
async def test_ids_beyond_the_database_range_are_refused_in_path_query_and_body(
    client: httpx.AsyncClient, world: World, big: int
) -> None:
    event = await world.event()
    person = await world.person()
    starts = "2026-12-12T09:00:00+08:00"
    requests: list[tuple[str, str, dict[str, Any] | None, Any, str]] = [
        ("GET", f"/events/{big}", None, None, "event_id"),
        ("GET", f"/events/{big}.ics", None, None, "event_id"),
        ("GET", f"/people/{big}", None, None, "person_id"),
        ("PATCH", f"/residents/{big}", None, {"name": "吴"}, "resident_id"),
        ("GET", f"/stations/{big}/organizations", None, None, "station_id"),
        ("DELETE", f"/events/{event.id}/signups/{big}", None, None, "person_id"),
        ("PATCH", f"/events/{event.id}/roles/{big}", None, {"count": 1}, "role_id"),
        ("GET", "/events", {"station_id": big}, None, "station_id"),
        ("GET", "/notifications", {"person": big}, None, "person"),
        ("GET", "/stats/attendance.xlsx", {"station_id": big}, None, "station_id"),
        (
            "POST",
            "/events",
            None,
            {"station_id": big, "theme": "home_visit", "starts_at": starts},
            "station_id",
        ),
        ("POST", f"/events/{event.id}/signups", None, {"person_id": big}, "person_id"),
        ("POST", f"/events/{event.id}/signups", None, {"person_id": person.id, "role": big}, "role"),
        ("POST", f"/events/{event.id}/served", None, {"resident_ids": [big]}, "resident_ids.0"),
        (
            "POST",
            f"/events/{event.id}/match/apply",
            None,
            {"proposals": [{"person_id": person.id, "role_id": big}], "mode": "confirm"},
            "proposals.0.role_id",
        ),
        (
            "POST",
            "/users",
            None,
            {"username": "organizer-two", "password": "p" * 12, "role": "organizer", "station_ids": [big]},
            "station_ids.0",
        ),
    ]
    for method, path, params, body, field in requests:
        response = await client.request(method, API + path, params=params, json=body, headers=world.organizer)
        assert (response.status_code, error_code(response)) == (422, "validation_error"), (
            path,
            response.text,
        )
        assert response.json()["error"]["field"].startswith(field), (path, response.text)
    # Digits beyond any id name no role: the filter answers as for any unknown role.
    listed = await client.get(
        f"{API}/events/{event.id}/signups", params={"role": str(big)}, headers=world.organizer
    )
    assert (listed.status_code, error_code(listed)) == (422, "unknown_role")
    assert await world.count(Event) == 1
    assert await world.count(Signup) == 0


async def test_openapi_shows_the_id_bounds(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    (parameter,) = spec["paths"][f"{API}/events/{{event_id}}"]["get"]["parameters"]
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (1, MAX_ID)
    station_id = spec["components"]["schemas"]["EventCreate"]["properties"]["station_id"]
    assert station_id["maximum"] == MAX_ID


@pytest.mark.parametrize(
    "when", ["0001-01-01T09:00:00+08:00", "1900-06-01T09:00:00+08:00", "9999-12-31T23:00:00-05:00"]
)
async def test_event_dates_outside_2000_to_2100_are_refused_and_nothing_stored(
    client: httpx.AsyncClient, world: World, when: str
) -> None:
    event = await world.event()
    created = await client.post(
        f"{API}/events",
        json={"station_id": world.station.id, "theme": "home_visit", "starts_at": when},
        headers=world.organizer,
    )
    assert (created.status_code, created.json()["error"]["field"]) == (422, "starts_at")
    error = created.json()["error"]
    assert "2000年至2100年" in error["message"]
    assert "2000 to 2100" in error["message_en"]
    moved = await client.post(
        f"{API}/events/{event.id}/reschedule", json={"starts_at": when}, headers=world.organizer
    )
    assert (moved.status_code, moved.json()["error"]["field"]) == (422, "starts_at")
    listed = await client.get(f"{API}/events", params={"from": when}, headers=world.organizer)
    assert (listed.status_code, listed.json()["error"]["field"]) == (422, "from")
    series = await client.post(
        f"{API}/series",
        json={
            "station_id": world.station.id,
            "theme": "home_visit",
            "rrule": "FREQ=WEEKLY",
            "starts_on": when[:10],
            "start_time": "09:00",
        },
        headers=world.organizer,
    )
    assert (series.status_code, series.json()["error"]["field"]) == (422, "starts_on")
    assert await world.count(Event) == 1
    assert await world.count(EventSeries) == 0
    kept = await client.get(f"{API}/events/{event.id}", headers=world.organizer)
    assert datetime.fromisoformat(kept.json()["starts_at"]) == event.starts_at


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
async def test_statistics_dates_outside_2000_to_2100_are_refused(
    client: httpx.AsyncClient, world: World, day: str
) -> None:
    person = await world.person()
    stats = await client.get(f"{API}/stats/people/{person.id}", params={"from": day}, headers=world.organizer)
    assert (stats.status_code, stats.json()["error"]["field"]) == (422, "from")
    report = await client.get(
        f"{API}/reports/monthly.xlsx",
        params={"station_id": world.station.id, "month": day[:7]},
        headers=world.head,
    )
    assert (report.status_code, error_code(report)) == (422, "invalid_month")
    participation = await client.get(f"{API}/stats/participation", params={"to": day}, headers=world.head)
    assert (participation.status_code, participation.json()["error"]["field"]) == (422, "to")
