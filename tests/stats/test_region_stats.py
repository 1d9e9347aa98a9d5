"""Statistics at every region level: from the region's own cells, for staff of that region or above."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook

from coordinator.auth.models import Role
from tests.regions import make_province, region_staff
from tests.stats.scenario import Scenario
from tests.world import World, error_code

URL = "/api/v1/stats/participation"
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}


async def _get(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await client.get(URL, params={**YEAR, **params}, headers=headers)


async def test_county_staff_get_their_county_from_its_cells(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    province = await make_province(world)
    await world.deliver_events()
    county_staff = await region_staff(world, province.county)

    county = await _get(client, county_staff, group_by="month")
    station = await _get(client, world.admin, station_id=world.station.id, group_by="month")

    assert county.status_code == 200, county.text
    assert county.json()["source"] == "rollup"
    assert county.json()["rows"] == station.json()["rows"]
    assert county.json()["totals"] == station.json()["totals"]


async def test_the_province_by_county_has_exact_distinct_counts_at_each_level(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    province = await make_province(world)
    await world.deliver_events()
    bureau = await region_staff(world, province.province, Role.station_head)

    by_county = await _get(client, bureau, group_by="region", level="county")
    everything = await _get(client, world.admin)
    recounted = await _get(client, bureau, group_by="region,organization", level="county")

    assert by_county.json()["source"] == "rollup"
    rows = {r["region_id"]: r for r in by_county.json()["rows"]}
    assert set(rows) == {province.county.id, province.other_county.id}
    assert by_county.json()["totals"] == everything.json()["totals"]
    # The same person at both counties counts once in the province.
    assert by_county.json()["totals"]["distinct_people"] <= sum(r["distinct_people"] for r in rows.values())
    assert recounted.json()["source"] == "recount"
    assert recounted.json()["totals"] == by_county.json()["totals"]


async def test_nobody_sees_a_region_outside_their_own(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    province = await make_province(world)
    county_staff = await region_staff(world, province.county)

    other = await _get(client, county_staff, region_id=province.other_county.id)
    above = await _get(client, county_staff, region_id=province.city.id)
    head = await _get(client, world.head, region_id=province.county.id)
    both = await _get(client, world.admin, region_id=province.county.id, station_id=world.station.id)
    too_high = await _get(client, world.admin, region_id=province.county.id, group_by="region", level="city")

    assert (other.status_code, above.status_code, head.status_code) == (404, 404, 404)
    assert (both.status_code, error_code(both)) == (422, "station_and_region")
    assert (too_high.status_code, error_code(too_high)) == (422, "invalid_region_level")


async def test_the_county_monthly_report_covers_every_station_below(
    client: httpx.AsyncClient, world: World, scenario: Scenario
) -> None:
    province = await make_province(world)
    await world.deliver_events()
    url = "/api/v1/reports/monthly.xlsx"

    county = await client.get(
        url, params={"month": "2026-11"}, headers=await region_staff(world, province.city)
    )
    station = await client.get(
        url, params={"month": "2026-11", "station_id": world.station.id}, headers=world.head
    )
    hidden = await client.get(
        url, params={"month": "2026-11", "region_id": province.city.id}, headers=world.head
    )

    assert county.status_code == 200, county.text
    assert f"monthly-report-region-{province.city.id}-2026-11.xlsx" in county.headers["content-disposition"]
    city_sheet = list(load_workbook(io.BytesIO(county.content))["活动统计"].iter_rows(values_only=True))
    station_sheet = list(load_workbook(io.BytesIO(station.content))["活动统计"].iter_rows(values_only=True))
    # The city's two stations both held a home visit in November: two activities, one station's one.
    assert (city_sheet[-1][:2], station_sheet[-1][:2]) == (("合计", 2), ("合计", 1))
    assert hidden.status_code == 404
