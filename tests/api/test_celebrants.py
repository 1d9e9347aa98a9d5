from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.people.models import Resident
from tests.api.event_world import SATURDAY_2PM, EventWorld, make_world
from tests.factories import auth_headers, create_resident, create_user

PHONE = "+8613812341234"
ID_NUMBER = "522601201610250012"


@dataclass
class Ledger:
    world: EventWorld
    head: dict[str, str]
    solar: Resident  # left-behind child, born 2016-12-03
    lunar_moving: Resident  # lunar 10-25: 2026-12-03, but 2027-11-22
    lunar_november: Resident  # lunar 10-20: 2026-11-28, 2025-12-09
    in_difficulty: Resident  # child in difficulty, solar 12-31, no birth year


@pytest.fixture
async def ledger(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> Ledger:
    world = await make_world(app, sessionmaker, clock)
    child = ["left_behind_child"]
    async with sessionmaker() as session, session.begin():
        head = await create_user(session, clock, Role.station_head, [world.station])

        async def resident(name: str, categories: list[str], **fields: Any) -> Resident:
            return await create_resident(
                session, clock, world.station, name=name, categories=categories, **fields
            )

        solar = await resident(
            "吴小花", child, birth_year=2016, birth_month=12, birth_day=3, phone=PHONE, id_number=ID_NUMBER
        )
        lunar_moving = await resident(
            "杨阿妹", child, birth_year=2016, birth_month=10, birth_day=25, birthday_is_lunar=True
        )
        lunar_november = await resident("潘小龙", child, birth_month=10, birth_day=20, birthday_is_lunar=True)
        in_difficulty = await resident("龙小军", ["child_in_difficulty"], birth_month=12, birth_day=31)
        # Not celebrants of the station's December party:
        await resident("张奶奶", ["empty_nest_elderly"], birth_month=12, birth_day=5)
        await resident("已迁出", child, birth_month=12, birth_day=6, is_active=False)
        await resident("无生日", child)
        await create_resident(session, clock, world.other, categories=child, birth_month=12, birth_day=7)
    return Ledger(world, auth_headers(app, head), solar, lunar_moving, lunar_november, in_difficulty)


async def _party(client: httpx.AsyncClient, world: EventWorld, **fields: Any) -> int:
    body = {"station_id": world.station.id, "theme": "birthday_party", "starts_at": SATURDAY_2PM, **fields}
    response = await client.post("/api/v1/events", json=body, headers=world.organizer)
    assert response.status_code == 201, response.text
    event_id: int = response.json()["id"]
    return event_id


def _names(body: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    return [(i["resident"]["name"], i["celebrated_on"], i["turning"]) for i in body["items"]]


async def test_december_party_lists_solar_and_converted_lunar_birthdays(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    event_id = await _party(client, ledger.world)
    response = await client.get(f"/api/v1/events/{event_id}/celebrants", headers=ledger.world.organizer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["month"], body["event_id"]) == ("2026-12", event_id)
    assert body["categories"] == ["left_behind_child", "child_in_difficulty"]  # the theme's
    # Lunar 10-25 falls on 3 December this year; lunar 10-20 already fell on 28 November.
    assert _names(body) == [
        ("吴小花", "2026-12-03", 10),
        ("杨阿妹", "2026-12-03", 10),
        ("龙小军", "2026-12-31", None),
    ]


async def test_a_lunar_birthday_moves_to_another_month_the_next_year(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    url = f"/api/v1/stations/{ledger.world.station.id}/celebrants"
    headers = ledger.world.organizer
    november_2027 = (await client.get(url, params={"month": "2027-11"}, headers=headers)).json()
    assert _names(november_2027) == [("潘小龙", "2027-11-17", None), ("杨阿妹", "2027-11-22", 11)]
    december_2027 = (await client.get(url, params={"month": "2027-12"}, headers=headers)).json()
    assert [name for name, _, _ in _names(december_2027)] == ["吴小花", "龙小军"]
    december_2025 = (await client.get(url, params={"month": "2025-12"}, headers=headers)).json()
    assert _names(december_2025)[:3] == [
        ("吴小花", "2025-12-03", 9),
        ("潘小龙", "2025-12-09", None),
        ("杨阿妹", "2025-12-14", 9),
    ]


async def test_station_list_defaults_to_this_month_and_takes_categories(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    url = f"/api/v1/stations/{ledger.world.station.id}/celebrants"
    this_month = (await client.get(url, headers=ledger.world.organizer)).json()
    assert this_month["month"] == "2026-11"
    assert _names(this_month) == [("潘小龙", "2026-11-28", None)]
    only_difficulty = await client.get(
        url, params={"month": "2026-12", "category": "child_in_difficulty"}, headers=ledger.world.organizer
    )
    assert _names(only_difficulty.json()) == [("龙小军", "2026-12-31", None)]


async def test_event_target_categories_decide_who_is_listed(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    event_id = await _party(client, ledger.world, target_categories=["empty_nest_elderly"])
    body = (await client.get(f"/api/v1/events/{event_id}/celebrants", headers=ledger.world.organizer)).json()
    assert _names(body) == [("张奶奶", "2026-12-05", None)]


async def test_personal_data_is_masked_except_for_the_station_head(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    event_id = await _party(client, ledger.world)
    url = f"/api/v1/events/{event_id}/celebrants"
    organizer_view = (await client.get(url, headers=ledger.world.organizer)).json()["items"][0]["resident"]
    assert (organizer_view["phone"], organizer_view["id_number"]) == ("138****1234", "5226**********0012")
    assert organizer_view["personal_data_masked"] is True
    head_view = (await client.get(url, headers=ledger.head)).json()["items"][0]["resident"]
    assert (head_view["phone"], head_view["id_number"]) == (PHONE, ID_NUMBER)


async def test_celebrants_refused_for_other_themes_stations_and_volunteers(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    world = ledger.world
    party = await _party(client, world)
    visit = await _party(client, world, theme="home_visit")
    not_party = await client.get(f"/api/v1/events/{visit}/celebrants", headers=world.organizer)
    assert (not_party.status_code, not_party.json()["error"]["code"]) == (409, "not_a_birthday_party")
    other = await client.get(f"/api/v1/events/{party}/celebrants", headers=world.other_organizer)
    assert other.status_code == 404
    foreign = await client.get(
        f"/api/v1/stations/{world.station.id}/celebrants", headers=world.other_organizer
    )
    assert foreign.status_code == 404
    volunteer = await client.get(f"/api/v1/events/{party}/celebrants", headers=world.volunteer)
    assert volunteer.status_code == 403


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "December", "1800-01"])
async def test_bad_month_is_refused(client: httpx.AsyncClient, ledger: Ledger, month: str) -> None:
    response = await client.get(
        f"/api/v1/stations/{ledger.world.station.id}/celebrants",
        params={"month": month},
        headers=ledger.world.organizer,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_month")


async def test_unknown_category_is_refused(client: httpx.AsyncClient, ledger: Ledger) -> None:
    response = await client.get(
        f"/api/v1/stations/{ledger.world.station.id}/celebrants",
        params={"category": "aliens"},
        headers=ledger.world.organizer,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unknown_category")
