"""The demo's province around the Kaili stations: the county bureau sees its four stations and no
other, a station head only their own, and the county's statistics come from its own roll-ups."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.demo.catalog import STATIONS
from coordinator.demo.loader import DEMO_PASSWORD, load_demo
from coordinator.demo.province import REGION_LOGINS
from tests.factories import create_station

API = "/api/v1"


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(f"{API}/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_the_county_bureau_sees_its_four_stations_and_a_head_only_their_own(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    runtime: Runtime,
) -> None:
    async with sessionmaker() as session, session.begin():
        result = await load_demo(session, clock, seed=7)
        elsewhere = await create_station(session, clock)  # a station in no demo region
    await runtime.relay.drain()
    assert set(REGION_LOGINS) <= {login.username for login in result.logins}
    county, head = await _login(client, "kaili-mzj"), await _login(client, "yingpanpo-head")

    seen = await client.get(f"{API}/stations", headers=county)
    own = await client.get(f"{API}/stations", headers=head)
    hidden = await client.get(f"{API}/stations/{elsewhere.id}", headers=county)
    by_township = {"group_by": "region", "level": "township"}
    county_stats = await client.get(f"{API}/stats/participation", params=by_township, headers=county)
    by_station = await client.get(
        f"{API}/stats/participation", params={"group_by": "station"}, headers=county
    )

    assert {s["code"] for s in seen.json()["items"]} == {s.code for s in STATIONS}
    assert [s["code"] for s in own.json()["items"]] == ["kl-yingpanpo"]
    assert hidden.status_code == 404
    assert county_stats.json()["source"] == "rollup"
    assert len(county_stats.json()["rows"]) == 4  # one row per township
    assert county_stats.json()["totals"]["person_times"] > 0
    assert county_stats.json()["totals"] == by_station.json()["totals"]
    second = await load_demo_again(sessionmaker, clock)
    assert second == 0


async def load_demo_again(sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> int:
    """A second run adds no region, places no station and creates no login."""
    async with sessionmaker() as session, session.begin():
        result = await load_demo(session, clock, seed=7)
    return sum(result.counts.values()) + len(result.logins)
