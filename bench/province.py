"""Statistics of a province at every region level: the roll-ups against the plain GROUP BY.

Run: ``python bench/province.py [rows] [database_url]`` (default 10,000,000 rows into
``postgresql+asyncpg://postgres@127.0.0.1:5432/coordinator_bench``; schema rebuilt);
``python bench/province.py rebuild [database_url]`` to rebuild and time a province loaded before,
``… measure [database_url]`` to time it again. It loads the
history of ``bench/stats.py`` over a province of 5 cities, 22 counties, 240 townships and 300
stations of 100 volunteers each (30,000), rebuilds the roll-ups (timed), then times the province's
year 2026 by region and month at the city, county and township level two ways, each warm,
median of 5: the statistics service (from the region cells) and the plain GROUP BY over
attendance ⋈ events ⋈ people joined to the region closure. Prints both, the ratio (goal ≥ 100×
and ≤ 20 ms) and whether every number is equal.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import date
from pathlib import Path

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from stats import DEFAULT_URL, GOAL, RUNS, T0, baseline, by_region_and_month, load

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.migrate import asyncpg_dsn, fresh_database
from coordinator.regions.models import Region, RegionLevel
from coordinator.regions.service import place_station
from coordinator.stats.commands import OPERATOR
from coordinator.stats.models import EventRollup
from coordinator.stats.rebuild import rebuild
from coordinator.stats.regions import rows_by_region
from coordinator.stats.service import Selection, participation

CITIES, COUNTIES, TOWNSHIPS, STATIONS, PEOPLE_PER_STATION = 5, 22, 240, 300, 100
FAST_ENOUGH_MS = 20.0
PROVINCE = 1


async def load_regions(conn: asyncpg.Connection) -> None:
    """The tree (ids: province 1, then cities, counties, townships), its closure, and each station
    under a township (townships in turn, so 60 of them have two stations)."""
    city_ids = [2 + c for c in range(CITIES)]
    county_ids = [2 + CITIES + k for k in range(COUNTIES)]
    township_ids = [2 + CITIES + COUNTIES + t for t in range(TOWNSHIPS)]
    parent = {PROVINCE: None} | {c: PROVINCE for c in city_ids}
    parent |= {k: city_ids[i % CITIES] for i, k in enumerate(county_ids)}
    parent |= {t: county_ids[i % COUNTIES] for i, t in enumerate(township_ids)}
    level = {PROVINCE: "province"} | dict.fromkeys(city_ids, "city") | dict.fromkeys(county_ids, "county")
    level |= dict.fromkeys(township_ids, "township")
    regions = [(r, parent[r], level[r], f"{level[r]}-{r}", f"bench-region-{r}", T0) for r in parent]
    columns = ["id", "parent_id", "level", "name", "code", "created_at"]
    await conn.copy_records_to_table("regions", records=regions, columns=columns)
    closure = []
    for region in parent:
        ancestor: int | None = region
        depth = 0
        while ancestor is not None:
            closure.append((region, ancestor, depth))
            ancestor, depth = parent[ancestor], depth + 1
    await conn.copy_records_to_table("region_ancestors", records=closure,
                                     columns=["region_id", "ancestor_id", "depth"])  # fmt: skip
    await conn.execute("UPDATE stations SET region_id = $1 + (id - 1) % $2", township_ids[0], TOWNSHIPS)


async def main(rows: int, url: str) -> None:
    print(f"province bench: {rows:,} attendance rows, {STATIONS} stations into {make_url(url).database}")
    await fresh_database(url)
    started = time.perf_counter()
    await load(url, rows, stations=STATIONS, people=PEOPLE_PER_STATION)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await load_regions(conn)
    finally:
        await conn.close()
    print(f"load: {time.perf_counter() - started:.0f} s")
    await rebuild_and_measure(url, f"{rows:,} rows")


async def rebuild_and_measure(url: str, note: str) -> None:
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    started = time.perf_counter()
    async with transaction(maker) as session:
        counted = await rebuild(session, progress=lambda step: print(f"  rebuild: {step}", flush=True))
    rebuild_s = time.perf_counter() - started
    print(f"rebuild: {counted:,} events counted in {rebuild_s:.0f} s (station, region and province cells)")
    await engine.dispose()
    await measure(url, f"{note}; rebuild {rebuild_s:.0f} s")


async def measure(url: str, note: str) -> None:
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    first, last = date(2026, 1, 1), date(2026, 12, 31)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    await conn.execute("SET work_mem = '256MB'")  # a fair baseline: room to hash and sort in memory
    verdicts = []
    try:
        for level in (RegionLevel.city, RegionLevel.county, RegionLevel.township):
            async with maker() as session:
                stations = frozenset(range(1, STATIONS + 1))
                regions = await rows_by_region(session, within=PROVINCE, stations=stations, level=level)
                selection = Selection(stations, first, last, ("region", "month"), PROVINCE, regions)
                service_times, answer = [], None
                for _ in range(RUNS + 1):
                    t = time.perf_counter()
                    answer = await participation(session, selection)
                    service_times.append(time.perf_counter() - t)
                    await session.rollback()
            assert answer is not None
            assert answer.source == "rollup"
            baseline_times, expected = [], {}
            for _ in range(RUNS + 1):
                t = time.perf_counter()
                expected = await baseline(conn, first, last, by_region_and_month(level.value))
                baseline_times.append(time.perf_counter() - t)
            got = {key: figures for key, figures in answer.rows} | {(): answer.totals}
            equal = got == expected
            service_ms = sorted(service_times[1:])[RUNS // 2] * 1000
            baseline_ms = sorted(baseline_times[1:])[RUNS // 2] * 1000
            ratio = baseline_ms / service_ms
            verdicts.append(equal and ratio >= GOAL and service_ms <= FAST_ENOUGH_MS)
            print(f"province 2026 by {level.value} and month ({len(answer.rows)} rows + totals): "
                  f"service {service_ms:.2f} ms, plain GROUP BY {baseline_ms:.0f} ms, {ratio:.0f}x, "
                  f"equal={equal}", flush=True)  # fmt: skip
    finally:
        await conn.close()
        await engine.dispose()
    print(f"{'PASS' if all(verdicts) else 'FAIL'}: province at every region level ({note})")
    await time_move(url)


async def time_move(url: str) -> None:
    """Placing station 1, with its whole history, under a township of another city (rolled back,
    then the tables it touched vacuumed)."""
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    async with maker() as session, session.begin():
        events = await session.scalar(select(func.count()).where(EventRollup.station_id == 1))
        elsewhere = await session.scalar(
            select(Region.id).where(Region.level == "township").order_by(Region.id.desc())
        )
        started = time.perf_counter()
        await place_station(session=session, principal=OPERATOR, station_id=1, region_id=elsewhere)
        await session.flush()
        print(f"placing a station with {events:,} events under another township: "
              f"{time.perf_counter() - started:.1f} s (rolled back)")  # fmt: skip
        await session.rollback()
    await engine.dispose()
    # The rolled-back move leaves dead cell and member rows; they would slow the next run's reads.
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("VACUUM stats_cells, stats_cell_members, stats_events")
    finally:
        await conn.close()


if __name__ == "__main__":
    argument = sys.argv[1] if len(sys.argv) > 1 else "10000000"
    database = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_URL
    if argument == "measure":
        asyncio.run(measure(database, "measured again"))
    elif argument == "rebuild":
        asyncio.run(rebuild_and_measure(database, "rebuilt again"))
    else:
        asyncio.run(main(int(argument), database))
