"""GET /stats/participation: the figures of a known history, who may see them, and which path answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.stats.scenario import Scenario
from tests.world import World

URL = "/api/v1/stats/participation"
METRICS = ("events", "person_times", "distinct_people", "party_member_person_times", "distinct_party_members",
           "social_worker_person_times", "volunteer_hours", "residents_served_person_times",
           "distinct_residents_served", "no_show_rate")  # fmt: skip
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}


def _figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[name] for name in METRICS)


async def test_county_year_by_month_and_theme_comes_from_rollups(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    response = await client.get(URL, params={**YEAR, "group_by": "month,theme"}, headers=world.admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "rollup"
    assert body["group_by"] == ["month", "theme"]
    rows = {(r["month"], r["theme"]): _figures(r) for r in body["rows"]}
    assert rows == {
        # p0 and p1 attended; p2 was absent (1 of 3 expected); p3's self-report is not approved.
        ("2026-10", "party_volunteer_drive"): (1, 2, 2, 1, 1, 1, 3.5, 0, 0, 0.3333),
        # e1 and the other station's e4; two named residents and a headcount of five.
        ("2026-11", "home_visit"): (2, 3, 3, 2, 2, 0, 2.25, 7, 2, 0.0),
        # 1 December in Kaili although 30 November in UTC.
        ("2026-12", "party_volunteer_drive"): (1, 1, 1, 1, 1, 0, 1.67, 0, 0, 0.0),
    }
    # The cancelled heritage event of 1 January counts nowhere; distinct people are 4, not 2+3+1.
    assert _figures(body["totals"]) == (4, 6, 4, 4, 2, 1, 7.42, 7, 2, 0.1429)


async def test_station_view_counts_only_its_events(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    station = scenario.history.station.id
    for headers in (world.admin, world.head, world.organizer):
        response = await client.get(URL, params={**YEAR, "station_id": station}, headers=headers)
        assert response.status_code == 200, response.text
        assert _figures(response.json()["totals"]) == (3, 5, 3, 4, 2, 1, 6.67, 7, 2, 0.1667)
    # An organizer of one station sees that station without naming it.
    mine = await client.get(URL, params=YEAR, headers=world.organizer)
    assert mine.json()["totals"]["events"] == 3
    assert mine.json()["source"] == "rollup"


async def test_group_by_role_is_recounted(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    params: dict[str, Any] = {**YEAR, "station_id": scenario.history.station.id, "group_by": "role"}
    body = (await client.get(URL, params=params, headers=world.organizer)).json()
    assert body["source"] == "recount"
    rows = {r["role"]: _figures(r) for r in body["rows"]}
    # p2 was absent from e0 in the 摄影 role and attended e1 in it.
    assert rows == {
        "志愿者": (3, 4, 2, 3, 1, 1, 6.17, 7, 2, 0.0),
        "摄影": (1, 1, 1, 1, 1, 0, 0.5, 7, 2, 0.5),
    }


async def test_group_by_party_branch_organization_and_week(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    station = scenario.history.station.id
    params: dict[str, Any] = {**YEAR, "station_id": station, "group_by": ["party_branch"]}
    rows = (await client.get(URL, params=params, headers=world.admin)).json()["rows"]
    assert [(r["party_branch"], r["person_times"], r["distinct_people"]) for r in rows] == [
        ("第1党支部", 4, 2),
        (None, 1, 1),
    ]
    params["group_by"] = ["organization"]
    rows = (await client.get(URL, params=params, headers=world.admin)).json()["rows"]
    org = scenario.history.organization.id
    assert [(r["organization_id"], r["events"], r["person_times"]) for r in rows] == [
        (org, 2, 3),
        (None, 1, 2),
    ]
    params["group_by"] = ["week"]
    rows = (await client.get(URL, params=params, headers=world.admin)).json()["rows"]
    assert [r["week"] for r in rows] == ["2026-W42", "2026-W45", "2026-W49"]


async def test_a_period_that_is_not_a_whole_month_or_year_is_recounted(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    params: dict[str, Any] = {
        "from": "2026-11-01",
        "to": "2026-12-01",
        "group_by": "month",
        "station_id": scenario.history.station.id,
    }
    body = (await client.get(URL, params=params, headers=world.admin)).json()
    assert body["source"] == "recount"
    assert [(r["month"], r["person_times"]) for r in body["rows"]] == [("2026-11", 2), ("2026-12", 1)]


async def test_station_scope_is_enforced(client: httpx.AsyncClient, world: World, scenario: Scenario) -> None:
    station = scenario.history.station.id
    foreign = await client.get(URL, params={"station_id": station}, headers=world.other_organizer)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "station_not_found"
    volunteer = await client.get(URL, params={"station_id": station}, headers=scenario.volunteer)
    assert volunteer.status_code == 403
    assert (await client.get(URL)).status_code == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"group_by": "colour"}, "invalid_group_by"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "invalid_period"),
        ({"from": "2020-01-01", "to": "2026-12-31"}, "period_too_long"),
    ],
)
async def test_bad_parameters_answer_422(
    client: httpx.AsyncClient, world: World, scenario: Scenario, params: dict[str, str], code: str
) -> None:
    response = await client.get(URL, params=params, headers=world.admin)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["message_en"]


async def test_a_roster_saved_a_moment_ago_counts_before_the_bus_delivers_it(
    client: httpx.AsyncClient, world: World
) -> None:
    """Read-your-writes: staff who just saved attendance see it, and once the bus has delivered it
    the roll-ups answer with the same figures."""
    event = await world.event(starts_in=timedelta(days=-1))  # 28 November in Kaili
    person = await world.person()
    roster = {"records": [{"person_id": person.id, "present": True, "walk_in": True}]}
    saved = await client.post(f"/api/v1/events/{event.id}/attendance", json=roster, headers=world.organizer)
    assert saved.status_code == 200, saved.text
    params: dict[str, Any] = {"station_id": world.station.id, "from": "2026-11-01", "to": "2026-11-30"}

    at_once = (await client.get(URL, params=params, headers=world.organizer)).json()
    assert (at_once["totals"]["events"], at_once["totals"]["person_times"]) == (1, 1)
    assert at_once["source"] == "recount"

    await world.deliver_events()
    later = (await client.get(URL, params=params, headers=world.organizer)).json()
    assert later["source"] == "rollup"
    assert later["totals"] == at_once["totals"]
