"""What staff and volunteers learn of records they may not see: another station's people scanned
at the door, and draft events; both answer as if unknown."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance
from coordinator.events.models import EventStatus
from tests.api.attendance_world import Running
from tests.stored import count_rows
from tests.world import World, error_code


async def _other_stations_person_code(world: World, client: httpx.AsyncClient) -> str:
    """The own check-in code of 石阿妹, a volunteer of the other station."""
    stranger = await world.person(station=world.other, name="石阿妹")
    answer = await client.get(f"/api/v1/people/{stranger.id}/qr", headers=world.other_organizer)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


async def test_scanning_another_stations_person_reveals_nothing_and_records_nothing(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _other_stations_person_code(world, client)

    scanned = await client.post(
        f"/api/v1/events/{running.event.id}/scan",
        json={"token": token, "walk_in": True},
        headers=world.organizer,
    )

    assert (scanned.status_code, error_code(scanned)) == (404, "person_not_found")
    assert "石阿妹" not in scanned.text
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_an_offline_scan_of_another_stations_person_is_rejected(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _other_stations_person_code(world, client)
    record = {
        "client_id": "c-1",
        "event_id": running.event.id,
        "person_token": token,
        "kind": "checkin",
        "at": "2026-11-29T09:55:00+08:00",
        "walk_in": True,
    }

    answer = await client.post(
        "/api/v1/attendance/batch", json={"records": [record]}, headers=world.organizer
    )

    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    assert (result["outcome"], result["code"]) == ("rejected", "person_not_found")
    assert "石阿妹" not in answer.text
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_a_volunteer_signing_up_for_a_draft_finds_no_such_event(
    client: httpx.AsyncClient, world: World
) -> None:
    draft = await world.event(status=EventStatus.draft, published_at=None)
    person = await world.person()
    headers = await world.volunteer_headers(person)

    answer = await client.post(
        f"/api/v1/events/{draft.id}/signups", json={"person_id": person.id}, headers=headers
    )

    assert (answer.status_code, error_code(answer)) == (404, "event_not_found")
    assert draft.title not in answer.text
    assert await world.signups(draft.id) == []
