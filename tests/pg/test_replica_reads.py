"""Statistics read from a real streaming replica while it is fresh, and from the primary when it
lags or dies, also in the middle of a request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from coordinator.app import create_app
from coordinator.clock import FixedClock
from coordinator.migrate import fresh_database
from coordinator.settings import Settings
from tests.conftest import START, TEST_SECRET, _run
from tests.pg.replication import Cluster, create_primary, remove, skip_reason, start_standby
from tests.stats.scenario import make_scenario
from tests.world import World, make_world

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")
URL = "/api/v1/stats/participation"
YEAR = {"from": "2026-01-01", "to": "2026-12-31", "group_by": "month"}
MAX_LAG = 1.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    cluster = create_primary()
    try:
        _run(fresh_database(cluster.primary_url))
        start_standby(cluster)
        yield cluster
    finally:
        remove(cluster)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


async def _caught_up(cluster: Cluster) -> None:
    primary = await asyncpg.connect(_dsn(cluster.primary_url))
    standby = await asyncpg.connect(_dsn(cluster.standby_url))
    try:
        target = await primary.fetchval("SELECT pg_current_wal_lsn()")
        for _ in range(300):
            if await standby.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the standby did not catch up")
    finally:
        await primary.close()
        await standby.close()


@pytest.fixture
async def app(cluster: Cluster) -> AsyncIterator[FastAPI]:
    await fresh_database(cluster.primary_url)
    settings = Settings(
        database_url=cluster.primary_url, database_replica_url=cluster.standby_url,
        replica_max_lag_seconds=MAX_LAG, replica_connect_timeout_seconds=2.0,
        secret_key=TEST_SECRET, scheduler_enabled=False, log_json=False, debug=True,
    )  # fmt: skip
    application = create_app(settings, clock=FixedClock(START))
    yield application
    await application.state.runtime.aclose()


@pytest.fixture
async def world(app: FastAPI) -> World:
    world = await make_world(app, app.state.sessionmaker, app.state.clock)
    await make_scenario(world)
    await world.deliver_events()
    return world


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def _replica_state(client: httpx.AsyncClient) -> tuple[str, float | None]:
    """The replica as ``/readyz`` reports it; ready whatever its state (the primary answers)."""
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    return ready.json()["replica"], ready.json()["replica_lag_seconds"]


def _reads(app: FastAPI, database: str) -> float:
    value: Any = app.state.metrics.registry.get_sample_value("reads_total", {"database": database})
    return float(value or 0)


async def test_a_fresh_replica_answers_and_a_lagging_one_is_passed_over(
    app: FastAPI, cluster: Cluster, client: httpx.AsyncClient, world: World
) -> None:
    await _caught_up(cluster)
    assert await _replica_state(client) == ("streaming", 0.0)
    from_replica = await client.get(URL, params=YEAR, headers=world.admin)
    assert from_replica.status_code == 200, from_replica.text
    assert (_reads(app, "replica"), _reads(app, "primary")) == (1, 0)

    # Idle for longer than the allowed lag, yet caught up: still fresh.
    await asyncio.sleep(MAX_LAG * 1.5)
    assert (await client.get(URL, params=YEAR, headers=world.admin)).json() == from_replica.json()
    assert _reads(app, "replica") == 2

    standby = await asyncpg.connect(_dsn(cluster.standby_url))
    try:
        await standby.execute("SELECT pg_wal_replay_pause()")
        # A write the paused standby does not replay: an activity published in the year.
        body = {"station_id": world.station.id, "theme": "home_visit",
                "starts_at": "2026-12-10T09:00:00+08:00", "ends_at": "2026-12-10T11:00:00+08:00"}  # fmt: skip
        created = await client.post("/api/v1/events", json=body, headers=world.organizer)
        assert created.status_code == 201, created.text
        published = await client.post(
            f"/api/v1/events/{created.json()['id']}/publish", headers=world.organizer
        )
        assert published.status_code == 200, published.text
        await asyncio.sleep(MAX_LAG * 1.5)
        behind = await client.get(URL, params=YEAR, headers=world.admin)
        state, lag = await _replica_state(client)
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()
    assert behind.status_code == 200
    assert _reads(app, "primary") == 1
    assert state == "lagging"
    assert (lag or 0) > MAX_LAG
    # The primary counts the new activity (recounted: its roll-up is not delivered yet).
    assert behind.json()["totals"]["events"] == from_replica.json()["totals"]["events"] + 1


async def test_the_primary_answers_when_the_replica_is_killed_mid_request(
    app: FastAPI, cluster: Cluster, client: httpx.AsyncClient, world: World
) -> None:
    await _caught_up(cluster)
    expected = (await client.get(URL, params=YEAR, headers=world.admin)).json()
    engine: AsyncEngine = app.state.runtime.replica_engine
    killed: list[str] = []

    # The request is on the replica, which has just found itself fresh: it dies before the read.
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _kill_before_the_read(*args: Any) -> None:
        statement: str = args[2]
        if "pg_last_wal_replay_lsn" not in statement and not killed:
            cluster.kill("standby")
            killed.append(statement)

    answer = await client.get(URL, params=YEAR, headers=world.admin)

    assert killed, "the request never reached the replica"
    assert answer.status_code == 200, answer.text
    assert answer.json() == expected
    assert (_reads(app, "replica"), _reads(app, "primary")) == (1, 1)
    assert await _replica_state(client) == ("down", None)
