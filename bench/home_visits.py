"""Home visits: planning a week for one station, and the due list over a county's ledger.

Run: ``python bench/home_visits.py [database_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coordinator_bench_visits``; the database is created if
missing and its schema rebuilt). With a fixed seed it loads, by COPY, 100 stations of 1,000 ledger
residents each (100,000) in 20 village groups, with the default policies and one past visit each,
30 % of them overdue or due within the week; station 1 also has 60 visitors (10 social workers,
10 volunteers trained for home visits, 40 others; a fifth speak 苗语).

Times, warm, median of 5:

- planning: ``visits.planning.plan_visits`` for station 1's next five working days (goal ≤ 2 s);
- due list: ``visits.service.due_page`` for the whole county (a bureau's admin, first page of
  200) and for one station (goal ≤ 200 ms).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker
from coordinator.migrate import asyncpg_dsn, fresh_database
from coordinator.visits.due import DueFilters
from coordinator.visits.planning import Plan, plan_visits
from coordinator.visits.policies import DEFAULT_INTERVALS
from coordinator.visits.schemas import PlanIn
from coordinator.visits.service import DuePage, due_page

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/coordinator_bench_visits"
SEED = 20261204
STATIONS = 100
RESIDENTS_PER_STATION = 1000
GROUPS = 20
VISITORS = 60
DUE_SHARE = 0.3
NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # a Friday morning in Kaili
T0 = datetime(2025, 1, 1, tzinfo=UTC)
CATEGORIES = list(DEFAULT_INTERVALS)
T = TypeVar("T")


async def _load(dsn: str, rng: random.Random) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        stations = [
            (s, f"凯里市第{s}社工站", f"bench-{s}", "Asia/Shanghai", T0) for s in range(1, STATIONS + 1)
        ]
        await conn.copy_records_to_table(
            "stations", records=stations, columns=["id", "name", "code", "timezone", "created_at"]
        )
        residents, categories, visits = [], [], []
        for rid in range(1, STATIONS * RESIDENTS_PER_STATION + 1):
            station = (rid - 1) // RESIDENTS_PER_STATION + 1
            category = rng.choice(CATEGORIES)
            interval = DEFAULT_INTERVALS[category]
            language = "miao" if rng.random() < 0.2 else None
            address = f"第{station}村{rng.randint(1, GROUPS)}组{rng.randint(1, 80)}号"
            residents.append((rid, station, f"居民{rid}", language, address, False, False, True, T0, T0))
            categories.append((rid, category))
            # Due within the week (or overdue) for DUE_SHARE of them, well ahead for the others.
            ago = (
                rng.uniform(interval - 7, interval * 1.5)
                if rng.random() < DUE_SHARE
                else rng.uniform(0, interval - 8)
            )
            at = NOW - timedelta(days=max(ago, 0.5))
            visits.append((rid, station, rid, at, "visited", "{}", "[]", at))
        await conn.copy_records_to_table(
            "residents",
            records=residents,
            columns=[
                "id",
                "station_id",
                "name",
                "language",
                "address",
                "birthday_is_lunar",
                "birthday_leap_month",
                "is_active",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "resident_categories", records=categories, columns=["resident_id", "category"]
        )
        await conn.copy_records_to_table(
            "visit_records",
            records=visits,
            columns=[
                "id",
                "station_id",
                "resident_id",
                "visited_at",
                "outcome",
                "conditions",
                "needs",
                "created_at",
            ],
        )
        people, terms = [], []
        for pid in range(1, VISITORS + 1):
            people.append(
                (
                    pid,
                    1,
                    f"志愿者{pid}",
                    f"+86138{pid:08d}",
                    False,
                    pid <= 10,
                    "[]",
                    True,
                    False,
                    False,
                    '["wechat", "sms", "email"]',
                    "22:00",
                    "08:00",
                    0,
                    0,
                    True,
                    T0,
                    T0,
                )
            )
            if 10 < pid <= 20:
                terms.append((pid, "skill", "home_visit"))
            if pid % 5 == 0:
                terms.append((pid, "language", "miao"))
        await conn.copy_records_to_table(
            "people",
            records=people,
            columns=[
                "id",
                "station_id",
                "name",
                "phone",
                "is_party_member",
                "is_social_worker",
                "availability",
                "consent_sms",
                "consent_wechat",
                "consent_email",
                "channel_order",
                "quiet_hours_start",
                "quiet_hours_end",
                "calendar_token_version",
                "qr_token_version",
                "is_active",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table("person_terms", records=terms, columns=["person_id", "kind", "code"])
        for table in ("stations", "residents", "visit_records", "people"):
            await conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _median(run: Callable[[], Awaitable[T]], times: int = 5) -> tuple[float, T]:
    result = await run()  # warm
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        result = await run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def _weekdays(after: date, count: int) -> list[date]:
    days: list[date] = []
    day = after
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


async def main(url: str) -> None:
    await fresh_database(url)
    started = time.perf_counter()
    await _load(asyncpg_dsn(url), random.Random(SEED))
    print(f"loaded {STATIONS * RESIDENTS_PER_STATION:,} residents in {time.perf_counter() - started:.1f} s")
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    clock = FixedClock(NOW)
    admin = Principal(user_id=1, role=Role.admin, station_ids=frozenset())
    head = Principal(user_id=2, role=Role.station_head, station_ids=frozenset({1}))
    week = _weekdays(NOW.date(), 5)
    try:
        async with maker() as session:

            async def plan() -> Plan:
                data = PlanIn(station_id=1, dates=week, itineraries_per_day=12)
                return await plan_visits(session=session, clock=clock, principal=head, data=data)

            async def county() -> DuePage:
                return await due_page(
                    session=session,
                    clock=clock,
                    principal=admin,
                    station_id=None,
                    filters=DueFilters(within_days=7),
                    limit=200,
                    cursor=None,
                )

            async def station() -> DuePage:
                return await due_page(
                    session=session,
                    clock=clock,
                    principal=head,
                    station_id=1,
                    filters=DueFilters(within_days=7),
                    limit=200,
                    cursor=None,
                )

            seconds, result = await _median(plan, times=3)
            stops = sum(len(r.stops) for r in result.rounds)
            leads = sum(1 for p in result.result.proposals if p.role_id % 2 != 0)
            print(
                f"planning one week, station 1: {seconds * 1000:.0f} ms (goal ≤ 2000): {len(result.rounds)} "
                f"rounds, {stops} residents, {leads} leads, {len(result.result.proposals)} visitors, "
                f"{result.unplanned} due left for later"
            )
            seconds, page = await _median(county)
            print(
                f"due list, county of {STATIONS * RESIDENTS_PER_STATION:,}: {seconds * 1000:.0f} ms "
                f"(goal ≤ 200): {page.total:,} due within 7 days"
            )
            seconds, page = await _median(station)
            print(
                f"due list, one station of {RESIDENTS_PER_STATION:,}: {seconds * 1000:.0f} ms: "
                f"{page.total:,} due within 7 days"
            )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL))
