"""Residents served: named ledger residents once per event, an anonymous headcount, station rules."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import ServiceHeadcount, ServiceRecord
from coordinator.clock import FixedClock
from coordinator.people.models import Resident
from tests.api.attendance_world import Running
from tests.factories import create_resident
from tests.stored import count_rows, domain_events
from tests.world import World


@pytest.fixture
async def residents(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> tuple[Resident, Resident, Resident]:
    async with sessionmaker() as session, session.begin():
        first = await create_resident(session, clock, world.station)
        second = await create_resident(session, clock, world.station, categories=["left_behind_child"])
        foreign = await create_resident(session, clock, world.other)
    return first, second, foreign


async def test_named_residents_count_once_per_event_and_headcount_is_replaced(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    residents: tuple[Resident, Resident, Resident],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first, second, _ = residents
    url = f"/api/v1/events/{running.event.id}/served"
    response = await client.post(
        url, json={"resident_ids": [first.id, first.id], "headcount": 25}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "event_id": running.event.id,
        "resident_ids": [first.id],
        "headcount": 25,
        "added": [first.id],
    }
    more = await client.post(
        url, json={"resident_ids": [first.id, second.id], "headcount": 30}, headers=world.organizer
    )
    assert (more.json()["resident_ids"], more.json()["added"], more.json()["headcount"]) == (
        [first.id, second.id],
        [second.id],
        30,
    )
    same = await client.post(
        url, json={"resident_ids": [second.id], "headcount": 30}, headers=world.organizer
    )
    assert same.json()["added"] == []
    assert await count_rows(sessionmaker, ServiceRecord) == 2
    assert await count_rows(sessionmaker, ServiceHeadcount) == 1
    served = await domain_events(sessionmaker, "ResidentsServed")
    assert [(e.payload["added"], e.payload["headcount"]) for e in served] == [
        ([first.id], 25),
        ([second.id], 30),
    ]
    listed = await client.get(url, headers=world.organizer)
    assert listed.json()["resident_ids"] == [first.id, second.id]


async def test_residents_of_other_stations_or_unknown_ones_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    residents: tuple[Resident, Resident, Resident],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first, _, foreign = residents
    url = f"/api/v1/events/{running.event.id}/served"
    other = await client.post(
        url, json={"resident_ids": [first.id, foreign.id], "headcount": 5}, headers=world.organizer
    )
    assert other.status_code == 422
    assert (other.json()["error"]["code"], other.json()["error"]["field"]) == (
        "resident_other_station",
        "resident_ids",
    )
    unknown = await client.post(url, json={"resident_ids": [99999]}, headers=world.organizer)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_resident")
    empty = await client.post(url, json={}, headers=world.organizer)
    assert empty.status_code == 422
    negative = await client.post(url, json={"headcount": -1}, headers=world.organizer)
    assert negative.status_code == 422
    assert await count_rows(sessionmaker, ServiceRecord) == 0
    assert await count_rows(sessionmaker, ServiceHeadcount) == 0
    assert await domain_events(sessionmaker, "ResidentsServed") == []


async def test_served_is_for_staff_of_the_event_station(
    client: httpx.AsyncClient, world: World, running: Running, residents: tuple[Resident, Resident, Resident]
) -> None:
    url = f"/api/v1/events/{running.event.id}/served"
    body = {"resident_ids": [residents[0].id]}
    assert (await client.post(url, json=body, headers=running.alice_login)).status_code == 403
    assert (await client.post(url, json=body, headers=world.other_organizer)).status_code == 404
    assert (await client.get(url, headers=world.other_organizer)).status_code == 404


async def test_removing_a_resident_recorded_by_mistake(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    residents: tuple[Resident, Resident, Resident],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first, second, _ = residents
    url = f"/api/v1/events/{running.event.id}/served"
    await client.post(url, json={"resident_ids": [first.id, second.id]}, headers=world.organizer)
    removed = await client.delete(f"{url}/{first.id}", headers=world.organizer)
    assert removed.status_code == 200
    assert removed.json()["resident_ids"] == [second.id]
    again = await client.delete(f"{url}/{first.id}", headers=world.organizer)
    assert again.status_code == 404
    last = (await domain_events(sessionmaker, "ResidentsServed"))[-1]
    assert (last.payload["added"], last.payload["removed"]) == ([], [first.id])


async def test_concurrent_reports_of_one_resident_store_one_row(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    residents: tuple[Resident, Resident, Resident],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    url = f"/api/v1/events/{running.event.id}/served"
    body = {"resident_ids": [residents[0].id], "headcount": 10}
    responses = await asyncio.gather(
        *(client.post(url, json=body, headers=world.organizer) for _ in range(6))
    )
    assert [r.status_code for r in responses] == [200] * 6
    assert sum(len(r.json()["added"]) for r in responses) == 1
    assert await count_rows(sessionmaker, ServiceRecord) == 1
    assert await count_rows(sessionmaker, ServiceHeadcount) == 1
    assert len(await domain_events(sessionmaker, "ResidentsServed")) == 1
