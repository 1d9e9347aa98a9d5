"""Offline batches from the door page: walk-ins by name and phone, late check-ins, refused codes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance, OfflineRecord
from coordinator.clock import FixedClock
from coordinator.people.models import Person
from tests.api.attendance_world import Running, attendance_of
from tests.conftest import START
from tests.stored import count_rows
from tests.world import World

# Kaili times during the event (10:30–12:30 local).
T1025, T1040, T1215 = "2026-11-29T10:25:00+08:00", "2026-11-29T10:40:00+08:00", "2026-11-29T12:15:00+08:00"
WALK_IN_PHONE = "13987654321"


@pytest.fixture(autouse=True)
def _after_the_event(running: Running, clock: FixedClock) -> None:
    clock.set(START + timedelta(hours=3))


def _record(running: Running, client_id: str, kind: str, at: str, **person: Any) -> dict[str, Any]:
    return {"client_id": client_id, "event_id": running.event.id, "kind": kind, "at": at, **person}


async def _upload(client: httpx.AsyncClient, world: World, *records: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post(
        "/api/v1/attendance/batch", json={"records": list(records)}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def _people_with_phone(sessionmaker: async_sessionmaker[AsyncSession], phone: str) -> list[Person]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Person).where(Person.phone == phone)))


async def test_a_walk_in_by_name_and_phone_is_recorded_once_as_a_new_person(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    walk_in = _record(running, "w-1", "checkin", T1040, name="潘阿妹", phone=WALK_IN_PHONE)
    first = await _upload(client, world, walk_in)
    assert first[0]["outcome"] == "applied"
    people = await _people_with_phone(sessionmaker, "+86" + WALK_IN_PHONE)
    assert [(p.name, p.station_id, p.id) for p in people] == [
        ("潘阿妹", world.station.id, first[0]["person_id"])
    ]
    row = await attendance_of(sessionmaker, running.event, people[0])
    assert row is not None
    assert (row.walk_in, row.status, row.method, row.client_id) == (True, "present", "offline_batch", "w-1")
    again = await _upload(client, world, walk_in)
    assert (again[0]["outcome"], again[0]["person_id"]) == ("replayed", people[0].id)
    assert len(await _people_with_phone(sessionmaker, "+86" + WALK_IN_PHONE)) == 1


async def test_one_walk_in_uploaded_from_two_phones_at_once_is_one_person(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    uploads = await asyncio.gather(
        *(
            _upload(
                client,
                world,
                _record(running, f"w-{i}", "checkin", T1040, name="潘阿妹", phone=WALK_IN_PHONE),
            )
            for i in range(4)
        )
    )
    outcomes = sorted(results[0]["outcome"] for results in uploads)
    assert outcomes == ["applied"] + ["unchanged"] * 3
    assert len(await _people_with_phone(sessionmaker, "+86" + WALK_IN_PHONE)) == 1
    assert await count_rows(sessionmaker, Attendance) == 1


async def test_a_walk_in_with_a_known_phone_is_that_person(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    people = await count_rows(sessionmaker, Person)
    results = await _upload(
        client, world, _record(running, "w-1", "checkin", T1040, name="龙春梅", phone=running.carol.phone)
    )
    assert (results[0]["outcome"], results[0]["person_id"]) == ("applied", running.carol.id)
    assert await count_rows(sessionmaker, Person) == people
    row = await attendance_of(sessionmaker, running.event, running.carol)
    assert row is not None
    assert row.walk_in


async def test_a_late_tick_sets_late_until_an_earlier_checkin_counts(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    alice = {"person_id": running.alice.id}
    await _upload(client, world, _record(running, "l-1", "checkin", T1040, late=True, **alice))
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert row.status == "late"
    results = await _upload(client, world, _record(running, "p-1", "checkin", T1025, **alice))
    assert (results[0]["outcome"], results[0]["resolution"]) == ("conflict", "replaced_stored")
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert (row.status, row.checked_in_at) == ("present", START + timedelta(minutes=25))


async def test_refused_records_say_why_and_the_rest_apply(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    carol_code = (await client.get(f"/api/v1/people/{running.carol.id}/qr", headers=world.organizer)).json()
    results = await _upload(
        client,
        world,
        _record(running, "bad-phone", "checkin", T1040, name="王", phone="12345"),
        _record(running, "carol-scan", "checkin", T1040, person_token=carol_code["token"]),
        _record(running, "bob-left", "checkout", T1215, person_id=running.bob.id),
    )
    assert [(r["client_id"], r["outcome"], r["code"]) for r in results] == [
        ("bad-phone", "rejected", "invalid_phone"),
        ("carol-scan", "rejected", "not_signed_up"),
        ("bob-left", "applied", None),
    ]
    assert all(r["message"] and r["message_en"] for r in results[:2])
    async with sessionmaker() as session:
        claimed = await session.scalar(select(func.count()).select_from(OfflineRecord))
    assert claimed == 1
    assert await count_rows(sessionmaker, Attendance) == 1


async def test_walk_in_shape_errors_refuse_the_whole_batch(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    no_name = [_record(running, "n", "checkin", T1040, phone=WALK_IN_PHONE)]
    two_people = [
        _record(running, "t", "checkin", T1040, person_id=running.alice.id, name="潘", phone=WALK_IN_PHONE)
    ]
    late_checkout = [_record(running, "l", "checkout", T1215, person_id=running.alice.id, late=True)]
    for records in (no_name, two_people, late_checkout):
        response = await client.post(
            "/api/v1/attendance/batch", json={"records": records}, headers=world.organizer
        )
        assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    assert await count_rows(sessionmaker, Attendance) == 0
    assert await _people_with_phone(sessionmaker, "+86" + WALK_IN_PHONE) == []
