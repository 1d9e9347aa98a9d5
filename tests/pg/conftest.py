"""Multi-process tests: they need PostgreSQL (SQLite is single-process by design)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from coordinator.db import create_engine
from coordinator.models import Base
from tests.conftest import PG_SKIP_REASON, PG_URL, _run


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """The migrated test database, emptied; skips (with the PostgreSQL reason) without one."""
    if PG_URL is None:
        pytest.skip(PG_SKIP_REASON)
    url: str = request.getfixturevalue("pg_migrated")
    _run(_truncate(url))
    return url
