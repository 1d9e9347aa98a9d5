"""Test fixtures: every database-backed test runs on SQLite and, when
``COORDINATOR_TEST_DATABASE_URL`` names a PostgreSQL database, on PostgreSQL too.

The schema is made by the migrations, once per database and test run; each test then starts
from empty tables (SQLite: a copy of the migrated file; PostgreSQL: TRUNCATE). Requests commit
for real, exactly as in production, so concurrency tests see real locks.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.app import create_app
from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.db import create_engine
from coordinator.migrate import fresh_database, upgrade
from coordinator.models import Base
from coordinator.notify.channels import Channel
from coordinator.observability.logging import configure_logging
from coordinator.settings import Settings
from tests.world import World, make_world


def _per_worker(url: str | None) -> str | None:
    """Under pytest-xdist every worker gets a database of its own (``…_gw0``), created on demand."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


PG_URL = _per_worker(os.environ.get("COORDINATOR_TEST_DATABASE_URL"))
PG_SKIP_REASON = "PostgreSQL tests skipped: set COORDINATOR_TEST_DATABASE_URL (see README) to run them"
TEST_SECRET = "test-secret-key-not-for-production-0123456789"
# The providers' callbacks exist only with a token; tests post with ``?token=`` this value.
RECEIPT_TOKEN = "receipt-token-of-the-tests"
# A Fernet key (32 bytes, URL-safe base64) that encrypts ID numbers in the tests.
ID_NUMBER_KEY = "dGVzdHMtaWQtbnVtYmVyLWtleS0wMTIzNDU2Nzg5YWI="
# A Sunday morning in Kaili (10:00 Asia/Shanghai); tests move the clock when they need to.
START = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)

# Machines under load (CI, a laptop running other work) must not turn slow examples into failures.
hypothesis.settings.register_profile("coordinator", deadline=None, print_blob=True)
hypothesis.settings.load_profile("coordinator")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="pg", marks=pytest.mark.skipif(PG_URL is None, reason=PG_SKIP_REASON)),
]


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run set-up coroutines on a loop of their own: fixtures may be reached from a running loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(asyncio.run, coroutine).result()


async def _migrate_sqlite(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "coordinator.db"
    _run(_migrate_sqlite(path))
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    assert PG_URL is not None
    # CI sets the URL on purpose: an unreachable server must fail the run, not skip it.
    _run(fresh_database(PG_URL))
    return PG_URL


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "coordinator.db"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_migrated")
    _run(_truncate_all(url))
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        scheduler_enabled=False,
        log_json=False,
        debug=True,
        notify_receipt_token=RECEIPT_TOKEN,
        id_number_keys=[ID_NUMBER_KEY],
    )


@pytest.fixture
def channels() -> Mapping[str, Channel] | None:
    """The app's channels: None builds them from the settings, as ``serve`` does; a test module
    that sends through channels of its own overrides this fixture."""
    return None


@pytest.fixture
async def app(
    settings: Settings, clock: FixedClock, channels: Mapping[str, Channel] | None
) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock, channels=channels)
    yield application
    await application.state.runtime.aclose()


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    """The app's runtime (``coordinator.composition``), left unstarted: tests drain the relay and
    run the ticks themselves."""
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def world(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> World:
    """Two stations, their staff, and shortcuts (``tests.world``)."""
    return await make_world(app, sessionmaker, clock)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Logs configured as in production (JSON), written into a buffer; the previous setup restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(Settings(log_json=True, log_level="INFO"), stream=stream)
    yield stream
    structlog.reset_defaults()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API leaves its event loop on the main thread."""
    items.sort(key=lambda item: "e2e" in item.path.parts)
