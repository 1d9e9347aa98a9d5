"""PostgreSQL pool: a connection idle for a while is pinged before use and replaced when the server
dropped it; one handed back moments ago goes straight to work (no ping round trips per request)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import make_url

from coordinator import db
from tests.conftest import PG_SKIP_REASON, PG_URL

pytestmark = pytest.mark.skipif(PG_URL is None, reason=PG_SKIP_REASON)


class SteppedTime:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


async def test_idle_connection_killed_by_the_server_is_replaced_and_busy_ones_are_not_pinged(
    pg_migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SteppedTime()
    # Only the pool's idea of time moves (not the event loop's).
    monkeypatch.setattr(db, "monotonic", clock.monotonic)
    original_ping: Callable[[AsyncAdapt_asyncpg_connection], None] = AsyncAdapt_asyncpg_connection.ping
    pings: list[int] = []

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(1)
        original_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    engine = db.create_engine(pg_migrated)
    dsn = make_url(pg_migrated).set(drivername="postgresql").render_as_string(hide_password=False)
    killer: asyncpg.Connection = await asyncpg.connect(dsn)
    try:
        async with engine.connect() as connection:
            first_pid = await connection.scalar(text("SELECT pg_backend_pid()"))

        # Handed back moments ago: reused without a ping.
        clock.now += 1
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT pg_backend_pid()")) == first_pid
        assert pings == []

        # The server ends that session while it sits idle in the pool (a restart, a firewall).
        await killer.execute("SELECT pg_terminate_backend($1)", first_pid)
        clock.now += db.PING_AFTER_IDLE_SECONDS + 1
        async with engine.connect() as connection:
            # The ping found it dead; the pool handed out a fresh connection instead of an error.
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != first_pid
        assert pings == [1]
    finally:
        await killer.close()
        await engine.dispose()
