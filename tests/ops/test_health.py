"""``/healthz``, ``/readyz`` and ``/metrics`` at the root."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from coordinator.app import create_app
from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.migrate import head_revision
from coordinator.settings import Settings
from tests.factories import auth_headers, create_station, create_user


async def _get(app: FastAPI, path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        return await http.get(path, **kwargs)  # type: ignore[arg-type]


# Nothing listens on port 1: connecting fails at once.
UNREACHABLE = Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", scheduler_enabled=False)


async def test_healthz_answers_without_touching_the_database() -> None:
    app = create_app(UNREACHABLE)

    response = await _get(app, "/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    await app.state.engine.dispose()


async def test_readyz_is_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": head_revision(), "reason": None,
                               "replica": None, "replica_lag_seconds": None}  # fmt: skip


async def test_readyz_stays_ready_and_says_so_when_the_replica_is_down(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"database_replica_url": UNREACHABLE.database_url}))

    first = await _get(app, "/readyz")
    again = await _get(app, "/readyz")  # within the retry time: not tried again, still down

    for response in (first, again):
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "revision": head_revision(), "reason": None,
                                   "replica": "down", "replica_lag_seconds": None}  # fmt: skip
    await app.state.runtime.aclose()


async def test_readyz_reports_a_fresh_replica_and_its_lag(settings: Settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("a read replica is PostgreSQL's")
    # The primary itself, read as a replica: not in recovery, so fresh with no lag.
    app = create_app(settings.model_copy(update={"database_replica_url": settings.database_url}))

    response = await _get(app, "/readyz")

    assert response.status_code == 200
    assert (response.json()["replica"], response.json()["replica_lag_seconds"]) == ("streaming", 0.0)
    await app.state.runtime.aclose()


async def test_readyz_refuses_a_database_without_migrations(tmp_path: Path, settings: Settings) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path}/empty.db"})
    app = create_app(empty)

    response = await _get(app, "/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": f"migrations not at head (database empty, code {head_revision()})",
    }
    await app.state.engine.dispose()


async def test_readyz_refuses_an_unreachable_database() -> None:
    app = create_app(UNREACHABLE)

    response = await _get(app, "/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["reason"].startswith("database unreachable: ")
    assert "nobody" not in response.text  # the database URL is not given away
    await app.state.engine.dispose()


async def test_metrics_count_requests_by_route_template_method_and_status(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        user = await create_user(session, clock, Role.admin)
    headers = auth_headers(app, user)
    await client.get(f"/api/v1/stations/{station.id}", headers=headers)
    await client.get(f"/api/v1/stations/{station.id}", headers=headers)
    await client.get("/api/v1/stations/999999", headers=headers)
    await client.get("/no/such/page")

    body = (await client.get("/metrics")).text

    route = "/api/v1/stations/{station_id}"
    assert f'http_requests_total{{method="GET",route="{route}",status="200"}} 2.0' in body
    assert f'http_requests_total{{method="GET",route="{route}",status="404"}} 1.0' in body
    assert 'http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0' in body
    assert f'http_request_duration_seconds_count{{method="GET",route="{route}"}} 3.0' in body
    assert f"/api/v1/stations/{station.id}" not in body  # raw paths would make a label per id
    assert "outbox_deliveries_total" in body


async def test_each_app_counts_its_own_requests(settings: Settings, clock: FixedClock) -> None:
    first, second = create_app(settings, clock=clock), create_app(settings, clock=clock)
    await _get(first, "/healthz")

    body = (await _get(second, "/metrics")).text

    assert 'route="/healthz"' not in body
    for app in (first, second):
        await app.state.engine.dispose()


async def test_request_id_is_echoed_or_made_up(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "req-42.abc"})
    made_up = await client.get("/healthz")
    refused = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})

    assert given.headers["X-Request-ID"] == "req-42.abc"
    assert len(made_up.headers["X-Request-ID"]) == 32
    assert refused.headers["X-Request-ID"] not in {"bad id\twith spaces", made_up.headers["X-Request-ID"]}
