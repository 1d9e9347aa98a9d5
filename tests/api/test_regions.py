"""Regions: the tree, stations under townships, and staff who see every station below their region."""

from __future__ import annotations

import httpx

from coordinator.auth.models import Role
from tests.regions import make_province, region_staff
from tests.world import World, error_code

API = "/api/v1"


async def _station_ids(client: httpx.AsyncClient, headers: dict[str, str]) -> set[int]:
    response = await client.get(f"{API}/stations", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def _add(
    client: httpx.AsyncClient, world: World, code: str, level: str, parent: int | None = None
) -> httpx.Response:
    body = {"name": f"区域{code}", "code": code, "level": level, "parent_id": parent}
    return await client.post(f"{API}/regions", json=body, headers=world.admin)


async def _place(
    client: httpx.AsyncClient, headers: dict[str, str], station_id: int, region_id: int
) -> httpx.Response:
    return await client.put(
        f"{API}/stations/{station_id}/region", json={"region_id": region_id}, headers=headers
    )


async def test_admin_builds_the_tree_and_places_a_station(client: httpx.AsyncClient, world: World) -> None:
    province = (await _add(client, world, "gz", "province")).json()["id"]
    city = (await _add(client, world, "qdn", "city", province)).json()["id"]
    county = (await _add(client, world, "kl", "county", city)).json()["id"]
    township = await _add(client, world, "dsz", "township", county)
    assert township.status_code == 201, township.text

    placed = await _place(client, world.admin, world.station.id, township.json()["id"])

    assert placed.status_code == 200
    assert placed.json()["region_id"] == township.json()["id"]
    listed = await client.get(f"{API}/regions", params={"parent_id": city}, headers=world.admin)
    assert [r["code"] for r in listed.json()["items"]] == ["kl"]


async def test_a_region_needs_a_parent_of_the_level_above(client: httpx.AsyncClient, world: World) -> None:
    province = (await _add(client, world, "gz", "province")).json()["id"]

    skipping = await _add(client, world, "kl", "county", province)
    orphan = await _add(client, world, "qdn", "city")
    twice = await _add(client, world, "gz", "province")
    not_township = await _place(client, world.admin, world.station.id, province)

    assert (skipping.status_code, error_code(skipping)) == (422, "invalid_region_parent")
    assert (orphan.status_code, error_code(orphan)) == (422, "invalid_region_parent")
    assert (twice.status_code, error_code(twice)) == (409, "region_code_taken")
    assert (not_township.status_code, error_code(not_township)) == (422, "station_region_not_township")
    listed = await client.get(f"{API}/regions", headers=world.admin)
    assert [r["code"] for r in listed.json()["items"]] == ["gz"]


async def test_only_admins_change_regions(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)
    county_staff = await region_staff(world, province.county)

    body = {"name": "x", "code": "x", "level": "township", "parent_id": province.county.id}
    made = await client.post(f"{API}/regions", json=body, headers=county_staff)
    moved = await _place(client, world.head, world.other.id, province.township.id)

    assert made.status_code == 403
    assert moved.status_code == 403


async def test_county_staff_see_every_station_below_and_nothing_else(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    county_staff = await region_staff(world, province.county)
    provincial_bureau = await region_staff(world, province.province, Role.station_head)

    assert await _station_ids(client, county_staff) == {world.station.id}
    assert await _station_ids(client, provincial_bureau) == {world.station.id, world.other.id}
    assert await _station_ids(client, world.head) == {world.station.id}
    hidden = await client.get(f"{API}/stations/{world.other.id}", headers=county_staff)
    assert hidden.status_code == 404
    regions = await client.get(f"{API}/regions", headers=county_staff)
    assert {r["id"] for r in regions.json()["items"]} == {province.county.id, province.township.id}
    above = await client.get(f"{API}/regions/{province.city.id}", headers=county_staff)
    assert above.status_code == 404


async def test_admin_creates_region_staff(client: httpx.AsyncClient, world: World) -> None:
    province = await make_province(world)

    body = {"username": "kaili.mzj", "password": "a long passphrase", "role": "organizer"}
    created = await client.post(
        f"{API}/users", json={**body, "region_id": province.county.id}, headers=world.admin
    )
    by_head = await client.post(
        f"{API}/users",
        json={**body, "username": "sneaky", "region_id": province.province.id},
        headers=world.head,
    )

    assert created.status_code == 201, created.text
    assert created.json()["region_id"] == province.county.id
    assert by_head.status_code == 403


async def test_coverage_counts_townships_with_a_station_and_social_workers_by_qualification(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    await _add(client, world, "empty-township", "township", province.county.id)
    await world.people(2, is_social_worker=True, qualification="social_worker")
    await world.person(is_social_worker=True, qualification="assistant_social_worker")
    await world.person(is_social_worker=True, qualification="senior_social_worker", station=world.other)
    await world.person()

    county = await client.get(f"{API}/regions/{province.county.id}/coverage", headers=world.admin)
    whole = await client.get(f"{API}/regions/{province.province.id}/coverage", headers=world.admin)
    hidden = await client.get(f"{API}/regions/{province.other_county.id}/coverage",
                              headers=await region_staff(world, province.county))  # fmt: skip

    assert county.status_code == 200, county.text
    body = county.json()
    assert (body["townships"], body["townships_with_station"], body["stations"]) == (2, 1, 1)
    assert body["social_workers"] == 3
    assert {q["qualification"]: q["social_workers"] for q in body["by_qualification"]} == {
        "assistant_social_worker": 1, "social_worker": 2, "senior_social_worker": 0,
    }  # fmt: skip
    assert {q["qualification"]: q["social_workers"] for q in whole.json()["by_qualification"]} == {
        "assistant_social_worker": 1, "social_worker": 2, "senior_social_worker": 1,
    }  # fmt: skip
    assert hidden.status_code == 404
