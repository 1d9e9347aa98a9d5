"""The organizer's roster: present / late / absent for sign-ups and walk-ins, idempotent."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance, AttendanceAudit
from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.people.models import Person
from tests.api.attendance_world import Running, attendance_of
from tests.conftest import START
from tests.stored import count_rows, domain_events
from tests.world import World


async def _roster(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    records: list[dict[str, Any]],
    headers: Any = None,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{running.event.id}/attendance",
        json={"records": records},
        headers=headers or world.organizer,
    )


async def test_roster_records_present_late_absent_with_default_times_and_capped_hours(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await _roster(
        client,
        world,
        running,
        [
            {"person_id": running.alice.id, "present": True},
            {"person_id": running.bob.id, "status": "late", "checked_in_at": "2026-11-29T11:00:00+08:00"},
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    by_person = {item["person_id"]: item for item in body["items"]}
    alice = by_person[running.alice.id]
    # No times given: the event's start and end, shown in Kaili time.
    assert (alice["checked_in_at"], alice["checked_out_at"]) == (
        "2026-11-29T10:30:00+08:00",
        "2026-11-29T12:30:00+08:00",
    )
    assert (alice["status"], alice["method"], alice["minutes"], alice["hours"]) == (
        "present",
        "roster",
        120,
        2.0,
    )
    bob = by_person[running.bob.id]
    assert (bob["status"], bob["minutes"], bob["hours"]) == ("late", 90, 1.5)
    absent = await _roster(client, world, running, [{"person_id": running.bob.id, "present": False}])
    item = absent.json()["items"][0]
    assert (item["status"], item["checked_in_at"], item["minutes"]) == ("absent", None, 0)
    assert absent.json()["updated"] == 1


async def test_sending_the_same_roster_again_changes_nothing(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    records: list[dict[str, Any]] = [
        {"person_id": running.alice.id, "present": True},
        {"person_id": running.bob.id, "present": False},
        {"name": "潘阿妹", "phone": "138 1234 1234", "present": True},
    ]
    first = await _roster(client, world, running, records)
    assert first.json()["created"] == 3
    events_before = await count_rows(sessionmaker, OutboxEvent)
    again = await _roster(client, world, running, records)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 3)
    assert await count_rows(sessionmaker, OutboxEvent) == events_before
    assert await count_rows(sessionmaker, AttendanceAudit) == 0
    assert await count_rows(sessionmaker, Attendance) == 3
    assert await count_rows(sessionmaker, Person, Person.phone == "+8613812341234") == 1


async def test_walk_in_by_name_and_phone_becomes_a_person_of_the_station(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await _roster(
        client, world, running, [{"name": "潘阿妹", "phone": "+86 138-1234-1234", "present": True}]
    )
    assert response.status_code == 200, response.text
    item = response.json()["items"][0]
    assert (item["person_name"], item["walk_in"]) == ("潘阿妹", True)
    async with sessionmaker() as session:
        person = await session.get(Person, item["person_id"])
        assert person is not None
        assert (person.phone, person.station_id) == ("+8613812341234", world.station.id)
    assert len(await domain_events(sessionmaker, "PersonCreated")) == 1


async def test_known_phone_of_a_walk_in_reuses_the_person(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await _roster(
        client, world, running, [{"name": "别的名字", "phone": running.carol.phone, "present": True}]
    )
    item = response.json()["items"][0]
    assert (item["person_id"], item["walk_in"]) == (running.carol.id, True)
    assert await count_rows(sessionmaker, Person) == 3


async def test_unconfirmed_person_needs_walk_in_flag_and_a_refused_roster_stores_nothing(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    records: list[dict[str, Any]] = [
        {"person_id": running.alice.id, "present": True},
        {"name": "潘阿妹", "phone": "13812341234", "present": True},
        {"person_id": running.carol.id, "present": True},
    ]
    refused = await _roster(client, world, running, records)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["code"], error["details"]) == ("not_signed_up", {"person_id": running.carol.id})
    assert await count_rows(sessionmaker, Attendance) == 0
    assert await count_rows(sessionmaker, Person) == 3  # the walk-in was not kept either
    assert await count_rows(sessionmaker, OutboxEvent) == 0
    records[2]["walk_in"] = True
    accepted = await _roster(client, world, running, records)
    assert accepted.status_code == 200
    assert {i["person_id"]: i["walk_in"] for i in accepted.json()["items"]}[running.carol.id] is True


@pytest.mark.parametrize(
    ("record", "status", "code", "field"),
    [
        ({"name": "潘阿妹", "phone": "12345", "present": True}, 422, "invalid_phone", "records.0.phone"),
        ({"person_id": 1}, 422, "validation_error", "records.0"),
        ({"phone": "13812341234", "present": True}, 422, "validation_error", "records.0"),
        (
            {
                "person_id": 1,
                "present": True,
                "checked_in_at": "2026-11-29T12:00:00+08:00",
                "checked_out_at": "2026-11-29T11:00:00+08:00",
            },
            422,
            "validation_error",
            "records.0",
        ),
        (
            {"person_id": 1, "present": True, "checked_in_at": "2026-11-29T12:00:00"},
            422,
            "validation_error",
            None,
        ),
        ({"person_id": 99999, "present": True}, 404, "person_not_found", None),
    ],
    ids=["bad-phone", "no-status", "no-name", "out-before-in", "naive-time", "unknown-person"],
)
async def test_bad_roster_lines_are_refused_with_their_field(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    sessionmaker: async_sessionmaker[AsyncSession],
    record: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    response = await _roster(client, world, running, [record])
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert error["field"] == field
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_roster_is_for_staff_of_the_event_station(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    records = [{"person_id": running.alice.id, "present": True}]
    volunteer = await _roster(client, world, running, records, running.alice_login)
    assert (volunteer.status_code, volunteer.json()["error"]["code"]) == (403, "role_forbidden")
    other = await _roster(client, world, running, records, world.other_organizer)
    assert other.status_code == 404
    admin = await _roster(client, world, running, records, world.admin)
    assert admin.status_code == 200
    assert await count_rows(sessionmaker, Attendance) == 1


async def test_roster_keeps_scanned_times_and_audits_its_changes(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    code = (
        await client.get(f"/api/v1/events/{running.event.id}/checkin-code", headers=world.organizer)
    ).json()
    await client.post("/api/v1/checkins", json={"token": code["token"]}, headers=running.alice_login)
    clock.set(START + timedelta(hours=3))
    response = await _roster(client, world, running, [{"person_id": running.alice.id, "status": "late"}])
    item = response.json()["items"][0]
    assert item["checked_in_at"] == "2026-11-29T10:00:00+08:00"  # the scan's time stays
    assert item["checked_out_at"] == "2026-11-29T12:30:00+08:00"  # none scanned: the event's end
    async with sessionmaker() as session:
        audit = list(await session.scalars(select(AttendanceAudit).order_by(AttendanceAudit.field)))
    assert [(a.field, a.before, a.after) for a in audit] == [
        ("checked_out_at", None, "2026-11-29T04:30:00+00:00"),
        ("status", "present", "late"),
    ]


async def test_concurrent_rosters_for_one_person_leave_one_row(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    records = [
        {"person_id": running.bob.id, "present": True},
        {"person_id": running.alice.id, "present": True},
    ]
    responses = await asyncio.gather(*(_roster(client, world, running, records) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert sum(r.json()["created"] for r in responses) == 2
    assert await count_rows(sessionmaker, Attendance) == 2
    row = await attendance_of(sessionmaker, running.event, running.bob)
    assert row is not None
    assert row.status == "present"
