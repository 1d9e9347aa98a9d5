"""Demo load: how long ``coordinator demo`` takes (goal: a few seconds) on SQLite and PostgreSQL.

Run: ``python bench/demo_load.py [postgresql_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_demo``; created if missing, its schema
rebuilt; pass ``-`` to skip PostgreSQL). The same rows are loaded twice per database into a fresh
schema: by the loader (bulk Core ``insert()`` of mappings, ``RETURNING`` ids) and, as the
baseline, ORM objects one by one (each added and flushed on its own). Prints both times, their
ratio (baseline / loader) and one summary line.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.clock import FixedClock
from coordinator.db import Base, create_engine, create_sessionmaker, transaction
from coordinator.demo import loader
from coordinator.migrate import fresh_database, upgrade

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_demo"
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
GOAL_SECONDS = 10.0


async def _one_by_one_ids(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]], counts: Counter[str]
) -> list[int]:
    ids = []
    for row in rows:
        instance = model(**row)
        session.add(instance)
        await session.flush()
        ids.append(int(getattr(instance, "id", 0)))
    counts[model.__tablename__] += len(rows)
    return ids


async def _one_by_one(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]], counts: Counter[str]
) -> None:
    await _one_by_one_ids(session, model, rows, counts)


def _remove_sqlite_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def _fresh(url: str) -> None:
    if url.startswith("postgresql"):
        await fresh_database(url)
        return
    _remove_sqlite_files(str(make_url(url).database))
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


async def _timed_load(url: str) -> tuple[float, int]:
    await _fresh(url)
    engine = create_engine(url)
    started = time.perf_counter()
    async with transaction(create_sessionmaker(engine)) as session:
        result = await loader.load_demo(session, FixedClock(NOW))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed, sum(result.counts.values())


async def _compare(url: str) -> tuple[float, float, int]:
    bulk, rows = await _timed_load(url)
    fast_ids, fast_bulk = loader._ids, loader._bulk
    loader._ids, loader._bulk = _one_by_one_ids, _one_by_one
    try:
        orm, _ = await _timed_load(url)
    finally:
        loader._ids, loader._bulk = fast_ids, fast_bulk
    return bulk, orm, rows


async def main(pg_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        urls = {"sqlite": f"sqlite+aiosqlite:///{directory}/demo.db"}
        if pg_url:
            urls["postgresql"] = pg_url
        summary = []
        for name, url in urls.items():
            bulk, orm, rows = await _compare(url)
            ratio = orm / bulk
            print(f"{name}: {rows} rows; loader {bulk:.2f} s, ORM one by one {orm:.2f} s, ratio {ratio:.1f}x")
            verdict = "" if bulk <= GOAL_SECONDS else f" (over the {GOAL_SECONDS:.0f} s goal)"
            summary.append(f"{name} {bulk:.2f} s, {ratio:.1f}x faster than one by one{verdict}")
    print("demo load: " + "; ".join(summary))


if __name__ == "__main__":
    argument = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PG
    asyncio.run(main(None if argument == "-" else argument))
