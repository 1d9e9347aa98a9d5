from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from coordinator.people.models import Resident
from tests.api.event_making import event_body
from tests.world import World

PHONE = "+8613812341234"
ID_NUMBER = "522601201610250012"


@dataclass
class Ledger:
    world: World
    solar: Resident  # left-behind child, born 2016-12-03
    lunar_moving: Resident  # lunar 10-25: 2026-12-03, but 2027-11-22
    lunar_november: Resident  # lunar 10-20: 2026-11-28, 2025-12-09
    in_difficulty: Resident  # child in difficulty, solar 12-31, no birth year


@pytest.fixture
async def ledger(world: World) -> Ledger:
    child = ["left_behind_child"]
    solar = await world.resident(
        name="吴小花", categories=child, birth_year=2016, birth_month=12, birth_day=3, phone=PHONE,
        id_number=ID_NUMBER,
    )  # fmt: skip
    lunar_moving = await world.resident(
        name="杨阿妹", categories=child, birth_year=2016, birth_month=10, birth_day=25, birthday_is_lunar=True
    )
    lunar_november = await world.resident(
        name="潘小龙", categories=child, birth_month=10, birth_day=20, birthday_is_lunar=True
    )
    in_difficulty = await world.resident(
        name="龙小军", categories=["child_in_difficulty"], birth_month=12, birth_day=31
    )
    # Not celebrants of the station's December party:
    await world.resident(name="张奶奶", categories=["empty_nest_elderly"], birth_month=12, birth_day=5)
    await world.resident(name="已迁出", categories=child, birth_month=12, birth_day=6, is_active=False)
    await world.resident(name="无生日", categories=child)
    await world.resident(station=world.other, categories=child, birth_month=12, birth_day=7)
    return Ledger(world, solar, lunar_moving, lunar_november, in_difficulty)


async def _party(client: httpx.AsyncClient, world: World, **fields: Any) -> int:
    response = await client.post("/api/v1/events", json=event_body(world, **fields), headers=world.organizer)
    assert response.status_code == 201, response.text
    event_id: int = response.json()["id"]
    return event_id


def _names(body: dict[str, Any]) -> list[tuple[str, str | None, int | None]]:
    return [(i["resident"]["name"], i["celebrated_on"], i["turning"]) for i in body["items"]]


async def test_december_party_lists_solar_and_converted_lunar_birthdays(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    event_id = await _party(client, ledger.world)
    response = await client.get(f"/api/v1/events/{event_id}/celebrants", headers=ledger.world.head)
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
    headers = ledger.world.head
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
    this_month = (await client.get(url, headers=ledger.world.head)).json()
    assert this_month["month"] == "2026-11"
    assert _names(this_month) == [("潘小龙", "2026-11-28", None)]
    only_difficulty = await client.get(
        url, params={"month": "2026-12", "category": "child_in_difficulty"}, headers=ledger.world.head
    )
    assert _names(only_difficulty.json()) == [("龙小军", "2026-12-31", None)]


async def test_event_target_categories_decide_who_is_listed(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    event_id = await _party(client, ledger.world, target_categories=["empty_nest_elderly"])
    body = (await client.get(f"/api/v1/events/{event_id}/celebrants", headers=ledger.world.head)).json()
    assert _names(body) == [("张奶奶", "2026-12-05", None)]


async def test_personal_data_is_masked_except_for_the_station_head(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    event_id = await _party(client, ledger.world)
    url = f"/api/v1/events/{event_id}/celebrants"
    organizer = (await client.get(url, headers=ledger.world.organizer)).json()
    # The age turned but not the day, in name order: a day beside the age is the birth date.
    assert _names(organizer) == [("吴小花", None, 10), ("杨阿妹", None, 10), ("龙小军", None, None)]
    organizer_view = organizer["items"][0]["resident"]
    assert (organizer_view["phone"], organizer_view["id_number"]) == ("138****1234", "*" * 14 + "0012")
    assert (organizer_view["birthday"], organizer_view["age"]) == (None, 9)
    assert organizer_view["personal_data_masked"] is True
    head_view = (await client.get(url, headers=ledger.world.head)).json()["items"][0]["resident"]
    assert (head_view["phone"], head_view["id_number"], head_view["birthday"]) == (
        PHONE,
        ID_NUMBER,
        "2016-12-03",
    )


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
