"""GET /events from/to: a plain date is that day in each station's own zone; instants keep their offset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from coordinator.db import transaction
from tests.factories import create_event, create_station
from tests.world import World

URL = "/api/v1/events"


async def _listed(client: httpx.AsyncClient, world: World, **params: Any) -> list[str]:
    answer = await client.get(URL, params=params, headers=world.admin)
    assert answer.status_code == 200, answer.text
    return [e["title"] for e in answer.json()["items"]]


async def test_a_date_is_the_stations_local_day(client: httpx.AsyncClient, world: World) -> None:
    async with transaction(world.sessionmaker) as session:
        urumqi = await create_station(session, world.clock, timezone="Asia/Urumqi")  # UTC+6
        for station, title, starts_at in [
            (world.station, "凯里清晨", "2026-12-05T00:30:00+08:00"),  # 4 December in UTC
            (world.station, "凯里前一晚", "2026-12-04T21:00:00+08:00"),  # over by midnight
            (world.station, "凯里次日", "2026-12-06T00:00:00+08:00"),
            # Already 5 December in Kaili, still the 4th in Urumqi, over at its midnight.
            (urumqi, "乌鲁木齐前一晚", "2026-12-04T22:00:00+06:00"),
            (urumqi, "乌鲁木齐深夜", "2026-12-05T23:30:00+06:00"),  # 6 December in Kaili
        ]:
            starts_in = datetime.fromisoformat(starts_at) - world.clock.now()
            await create_event(session, world.clock, station, title=title, starts_in=starts_in)

    one_day = await _listed(client, world, **{"from": "2026-12-05", "to": "2026-12-05"})
    assert one_day == ["凯里清晨", "乌鲁木齐深夜"]
    # Instants with an offset are taken as they are, the same for every station.
    kaili_day = {"from": "2026-12-05T00:00:00+08:00", "to": "2026-12-06T00:00:00+08:00"}
    assert await _listed(client, world, **kaili_day) == ["乌鲁木齐前一晚", "凯里清晨"]
    # One station's list in its own zone.
    assert await _listed(client, world, station_id=urumqi.id, to="2026-12-04") == ["乌鲁木齐前一晚"]


async def test_a_time_without_an_offset_is_refused(client: httpx.AsyncClient, world: World) -> None:
    answer = await client.get(URL, params={"from": "2026-12-05T09:00"}, headers=world.admin)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("validation_error", "from")
    assert "offset" in error["message_en"]
