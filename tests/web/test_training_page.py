"""The training and supervision page without a browser: a county's staff see their county's
figures and follow-ups, a station head only their station's."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from coordinator.auth.models import Role
from coordinator.db import transaction
from tests.factories import create_user
from tests.regions import make_province, region_staff
from tests.web.browsing import log_in
from tests.world import World


def _tile(page: str, test_id: str) -> str:
    found = re.search(rf'data-testid="{test_id}">([^<]*)<', page)
    assert found is not None, test_id
    return found.group(1)


async def test_county_staff_see_their_county_and_a_station_head_their_station(
    client: httpx.AsyncClient, world: World
) -> None:
    province = await make_province(world)
    api = await region_staff(world, province.county)
    today = world.clock.now().date()
    visit = {"station_id": world.station.id, "visited_on": today.isoformat(), "supervisor": "马督导",
             "findings": [{"item": "records_complete", "met": False, "follow_up": "补齐签到表",
                           "due_on": (today + timedelta(days=7)).isoformat()}]}  # fmt: skip
    assert (await client.post("/api/v1/supervision/visits", json=visit, headers=api)).status_code == 201
    async with transaction(world.sessionmaker) as session:
        await create_user(
            session, world.clock, Role.organizer, region_id=province.county.id, username="county"
        )
        await create_user(session, world.clock, Role.station_head, [world.other], username="other-head")

    await log_in(client, "county")
    county = await client.get("/web/training")
    client.cookies.clear()
    await log_in(client, "other-head")
    other = await client.get("/web/training")
    elsewhere = await client.get("/web/training", params={"region": province.county.id})

    assert county.status_code == 200
    assert f"培训与督导 · county · {today.year}" in county.text  # the county, not a station of it
    assert _tile(county.text, "visits") == "1"
    assert re.search(r"<td>档案资料齐全</td><td>补齐签到表</td>", county.text)
    assert (other.status_code, _tile(other.text, "visits"), "补齐签到表" in other.text) == (200, "0", False)
    assert elsewhere.status_code == 404
