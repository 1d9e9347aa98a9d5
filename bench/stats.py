"""Statistics dashboard: the roll-ups against the plain GROUP BY, over millions of attendance rows.

Run: ``python bench/stats.py [rows] [database_url]`` (default 10,000,000 rows into
``postgresql+asyncpg://postgres@127.0.0.1:5432/coordinator_bench``; the database is created if
missing and its schema rebuilt). With a fixed seed it loads, by COPY (asyncpg
``copy_records_to_table``), 100 stations of 300 volunteers each and five years (2022–2026) of
activities of six themes, ~25 attendance rows per activity (present, late, absent, no-show; a few
unapproved; 3 % of activities cancelled), plus named residents of home visits and headcounts.

Then it rebuilds the roll-ups (``coordinator stats rebuild``'s code) and times the county's
dashboard — the year 2026 by month and theme, with totals — two ways, each warm, median of 5:

- service: ``stats.service.participation`` (answers from the roll-up cells);
- baseline: the plain GROUP BY over attendance ⋈ events ⋈ people (and service rows), with
  ``GROUPING SETS`` for the totals, months in each station's zone.

Prints both times, the ratio (goal ≥ 100×, DESIGN §6) and whether every number is equal.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.migrate import asyncpg_dsn, fresh_database
from coordinator.stats.figures import Figures
from coordinator.stats.rebuild import rebuild
from coordinator.stats.service import Selection, participation

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/coordinator_bench"
SEED = 20261129
STATIONS = 100
PEOPLE_PER_STATION = 300
RESIDENTS_PER_STATION = 200
ORGANIZATIONS_PER_STATION = 3
PER_EVENT = 25
YEARS = (2022, 2023, 2024, 2025, 2026)
THEMES = (
    "birthday_party",
    "festival_visit",
    "party_volunteer_drive",
    "home_visit",
    "heritage",
    "community_care",
)
GOAL = 100.0
RUNS = 5
T0 = datetime(2021, 1, 1, tzinfo=UTC)
STATUSES = ["present"] * 85 + ["late"] * 5 + ["absent"] * 5 + ["no_show"] * 5


async def load(url: str, rows: int, *, stations: int = STATIONS, people: int = PEOPLE_PER_STATION) -> None:
    """``stations`` of ``people`` volunteers each, and ``rows`` attendance rows over them."""
    rng = random.Random(SEED)
    dsn = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn)
    try:
        # A bulk load of generated, consistent rows: skip the foreign-key triggers, and build the
        # attendance indexes once at the end instead of row by row.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef, c.conname FROM pg_indexes i"
            " LEFT JOIN pg_constraint c ON c.conname = i.indexname"
            " WHERE i.tablename = 'attendance' AND i.indexname <> 'pk_attendance'"
        )
        for index in indexes:
            if index["conname"]:
                await conn.execute(f'ALTER TABLE attendance DROP CONSTRAINT "{index["conname"]}"')
            else:
                await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        await _load_world(conn, rng, stations, people)
        await _load_events_and_attendance(conn, rng, rows, stations, people)
        started = time.perf_counter()
        for index in indexes:
            await conn.execute(index["indexdef"])
        print(f"  attendance indexes built in {time.perf_counter() - started:.0f} s")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _load_world(
    conn: asyncpg.Connection, rng: random.Random, n_stations: int, per_station: int
) -> None:
    stations = [(s, f"第{s}社工站", f"bench-{s}", "Asia/Shanghai", T0) for s in range(1, n_stations + 1)]
    await conn.copy_records_to_table("stations", records=stations, columns=["id", "name", "code", "timezone",
                                                                             "created_at"])  # fmt: skip
    organizations = [
        ((s - 1) * ORGANIZATIONS_PER_STATION + o, s, f"社会组织{s}-{o}", T0)
        for s in range(1, n_stations + 1)
        for o in range(1, ORGANIZATIONS_PER_STATION + 1)
    ]
    await conn.copy_records_to_table("organizations", records=organizations,
                                     columns=["id", "station_id", "name", "created_at"])  # fmt: skip
    people = []
    for s in range(1, n_stations + 1):
        for i in range(per_station):
            pid = (s - 1) * per_station + i + 1
            party = rng.random() < 0.2
            branch = f"第{s}党支部" if party else None
            people.append((pid, s, f"志愿者{pid}", f"+86138{pid:08d}", party, branch, rng.random() < 0.05,
                           "[]", True, False, False, '["wechat", "sms", "email"]', "22:00", "08:00", 0, 0,
                           True, T0, T0))  # fmt: skip
    await conn.copy_records_to_table("people", records=people, columns=[
        "id", "station_id", "name", "phone", "is_party_member", "party_branch", "is_social_worker",
        "availability", "consent_sms", "consent_wechat", "consent_email", "channel_order",
        "quiet_hours_start", "quiet_hours_end", "calendar_token_version", "qr_token_version", "is_active",
        "created_at", "updated_at"])  # fmt: skip
    residents = [((s - 1) * RESIDENTS_PER_STATION + r, s, f"居民{s}-{r}", False, False, True, T0, T0)
                 for s in range(1, n_stations + 1) for r in range(1, RESIDENTS_PER_STATION + 1)]  # fmt: skip
    await conn.copy_records_to_table("residents", records=residents, columns=[
        "id", "station_id", "name", "birthday_is_lunar", "birthday_leap_month", "is_active", "created_at",
        "updated_at"])  # fmt: skip


async def _load_events_and_attendance(
    conn: asyncpg.Connection, rng: random.Random, rows: int, n_stations: int, per_station: int
) -> None:
    events_total = rows // PER_EVENT
    per_station_year = max(1, events_total // (n_stations * len(YEARS)))
    event_id = 0
    attendance: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    served: list[tuple[Any, ...]] = []
    headcounts: list[tuple[Any, ...]] = []
    loaded = 0
    started = time.perf_counter()
    for year in YEARS:
        year_start = datetime(year, 1, 1, tzinfo=UTC) - timedelta(hours=8)
        for s in range(1, n_stations + 1):
            people = range((s - 1) * per_station + 1, s * per_station + 1)
            for _ in range(per_station_year):
                event_id += 1
                theme = THEMES[rng.randrange(len(THEMES))]
                starts = year_start + timedelta(minutes=rng.randrange(365 * 24 * 60))
                status = "cancelled" if rng.random() < 0.03 else "completed"
                org = (
                    (s - 1) * ORGANIZATIONS_PER_STATION + rng.randrange(1, 4) if rng.random() < 0.5 else None
                )
                ends = starts + timedelta(hours=2)
                events.append((event_id, s, org, False, theme, f"活动{event_id}", starts, ends, PER_EVENT,
                               status, "[]", "[]", 0, T0, T0))  # fmt: skip
                for person in rng.sample(people, PER_EVENT):
                    state = STATUSES[rng.randrange(100)]
                    minutes = rng.randrange(60, 181) if state in ("present", "late") else 0
                    attendance.append((event_id, person, s, state, False, minutes, False, rng.random() < 0.98,
                                       starts, starts))  # fmt: skip
                if theme == "home_visit":
                    base = (s - 1) * RESIDENTS_PER_STATION
                    for resident in rng.sample(range(base + 1, base + RESIDENTS_PER_STATION + 1), 3):
                        served.append((event_id, resident, s, starts))
                elif theme == "festival_visit":
                    headcounts.append((event_id, s, rng.randrange(5, 40), starts))
            if len(attendance) >= 500_000:
                loaded += await _flush(conn, events, attendance, served, headcounts)
                print(
                    f"  loaded {loaded:,} attendance rows ({time.perf_counter() - started:.0f} s)", flush=True
                )
    loaded += await _flush(conn, events, attendance, served, headcounts)
    print(
        f"  loaded {loaded:,} attendance rows in {event_id:,} events ({time.perf_counter() - started:.0f} s)"
    )


async def _flush(conn: asyncpg.Connection, events: list[Any], attendance: list[Any], served: list[Any],
                 headcounts: list[Any]) -> int:  # fmt: skip
    await conn.copy_records_to_table("events", records=events, columns=[
        "id", "station_id", "organization_id", "detached", "theme", "title", "starts_at", "ends_at",
        "capacity", "status", "reminder_offsets", "target_categories", "sequence", "created_at",
        "updated_at"])  # fmt: skip
    await conn.copy_records_to_table("attendance", records=attendance, columns=[
        "event_id", "person_id", "station_id", "status", "walk_in", "minutes", "minutes_overridden",
        "approved", "created_at", "updated_at"])  # fmt: skip
    await conn.copy_records_to_table("service_records", records=served,
                                     columns=["event_id", "resident_id", "station_id",
                                              "created_at"])  # fmt: skip
    await conn.copy_records_to_table("service_headcounts", records=headcounts,
                                     columns=["event_id", "station_id", "headcount",
                                              "updated_at"])  # fmt: skip
    n = len(attendance)
    for batch in (events, attendance, served, headcounts):
        batch.clear()
    return n


BASELINE_ATTENDANCE = """
WITH ev AS (
  SELECT e.id, {first} AS k1, {second} AS k2
  FROM events e JOIN stations s ON s.id = e.station_id {regions}
  WHERE e.status IN ('published', 'completed') AND e.starts_at >= $1 AND e.starts_at < $2
    AND (e.starts_at AT TIME ZONE s.timezone)::date BETWEEN $3 AND $4)
SELECT ev.k1, ev.k2, GROUPING(ev.k1) AS is_total,
  count(*) FILTER (WHERE a.status IN ('present', 'late')) AS person_times,
  count(DISTINCT a.person_id) FILTER (WHERE a.status IN ('present', 'late')) AS distinct_people,
  count(*) FILTER (WHERE a.status IN ('present', 'late') AND p.is_party_member) AS party_times,
  count(DISTINCT a.person_id) FILTER (WHERE a.status IN ('present', 'late') AND p.is_party_member) AS party,
  count(*) FILTER (WHERE a.status IN ('present', 'late') AND p.is_social_worker) AS social_times,
  coalesce(sum(a.minutes) FILTER (WHERE a.status IN ('present', 'late')), 0) AS minutes,
  count(*) FILTER (WHERE a.status IN ('absent', 'no_show')) AS no_shows
FROM ev JOIN attendance a ON a.event_id = ev.id AND a.approved JOIN people p ON p.id = a.person_id
GROUP BY GROUPING SETS ((ev.k1, ev.k2), ())
"""
BASELINE_EVENTS = """
WITH ev AS (
  SELECT e.id, {first} AS k1, {second} AS k2
  FROM events e JOIN stations s ON s.id = e.station_id {regions}
  WHERE e.status IN ('published', 'completed') AND e.starts_at >= $1 AND e.starts_at < $2
    AND (e.starts_at AT TIME ZONE s.timezone)::date BETWEEN $3 AND $4),
served AS (
  SELECT ev.id, count(sr.resident_id) + coalesce(max(h.headcount), 0) AS person_times
  FROM ev LEFT JOIN service_records sr ON sr.event_id = ev.id
    LEFT JOIN service_headcounts h ON h.event_id = ev.id
  GROUP BY ev.id)
SELECT ev.k1, ev.k2, GROUPING(ev.k1) AS is_total, count(*) AS events,
  sum(served.person_times) AS residents_times
FROM ev JOIN served ON served.id = ev.id
GROUP BY GROUPING SETS ((ev.k1, ev.k2), ())
"""
BASELINE_RESIDENTS = """
WITH ev AS (
  SELECT e.id, {first} AS k1, {second} AS k2
  FROM events e JOIN stations s ON s.id = e.station_id {regions}
  WHERE e.status IN ('published', 'completed') AND e.starts_at >= $1 AND e.starts_at < $2
    AND (e.starts_at AT TIME ZONE s.timezone)::date BETWEEN $3 AND $4)
SELECT ev.k1, ev.k2, GROUPING(ev.k1) AS is_total, count(DISTINCT sr.resident_id) AS residents
FROM ev JOIN service_records sr ON sr.event_id = ev.id
GROUP BY GROUPING SETS ((ev.k1, ev.k2), ())
"""


MONTH = "to_char(e.starts_at AT TIME ZONE s.timezone, 'YYYY-MM')"
BY_MONTH_AND_THEME = {"first": MONTH, "second": "e.theme", "regions": ""}


def by_region_and_month(level: str) -> dict[str, str]:
    """Rows by the region of ``level`` above each station (from the closure), then by month."""
    regions = ("JOIN region_ancestors ra ON ra.region_id = s.region_id"
               f" JOIN regions r ON r.id = ra.ancestor_id AND r.level = '{level}'")  # fmt: skip
    return {"first": "ra.ancestor_id", "second": MONTH, "regions": regions}


async def baseline(
    conn: asyncpg.Connection, first: date, last: date, keys: dict[str, str] = BY_MONTH_AND_THEME
) -> dict[Any, Figures]:
    """The plain GROUP BY: (k1, k2) → figures (``keys`` says what they are), and () → the totals."""
    args = (datetime.combine(first, datetime.min.time(), UTC) - timedelta(days=1),
            datetime.combine(last, datetime.min.time(), UTC) + timedelta(days=2), first, last)  # fmt: skip
    found: dict[Any, dict[str, int]] = {}

    def slot(r: asyncpg.Record) -> dict[str, int]:
        return found.setdefault(() if r["is_total"] else (r["k1"], r["k2"]), {})

    for r in await conn.fetch(BASELINE_EVENTS.format(**keys), *args):
        slot(r).update(events=r["events"], residents_served_person_times=int(r["residents_times"]))
    for r in await conn.fetch(BASELINE_ATTENDANCE.format(**keys), *args):
        slot(r).update(person_times=r["person_times"], distinct_people=r["distinct_people"],
                       party_member_person_times=r["party_times"], distinct_party_members=r["party"],
                       social_worker_person_times=r["social_times"], volunteer_minutes=int(r["minutes"]),
                       no_shows=r["no_shows"])  # fmt: skip
    for r in await conn.fetch(BASELINE_RESIDENTS.format(**keys), *args):
        slot(r).update(distinct_residents_served=r["residents"])
    return {key: Figures(**values) for key, values in found.items()}


def _median_seconds(samples: list[float]) -> float:
    return statistics.median(samples)


async def main(rows: int, url: str) -> None:
    print(f"stats bench: {rows:,} attendance rows into {make_url(url).database}")
    await fresh_database(url)
    started = time.perf_counter()
    await load(url, rows)
    print(f"load: {time.perf_counter() - started:.0f} s")
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    started = time.perf_counter()
    async with transaction(maker) as session:
        counted = await rebuild(session, progress=lambda step: print(f"  rebuild: {step}", flush=True))
    print(f"rebuild: {counted:,} events counted in {time.perf_counter() - started:.0f} s")
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    first, last = date(2026, 1, 1), date(2026, 12, 31)
    selection = Selection(None, first, last, ("month", "theme"))
    service_times, answer = [], None
    async with maker() as session:
        for _ in range(RUNS + 1):
            t = time.perf_counter()
            answer = await participation(session, selection)
            service_times.append(time.perf_counter() - t)
            await session.rollback()
    assert answer is not None
    assert answer.source == "rollup"
    dsn = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn)
    baseline_times, expected = [], {}
    try:
        await conn.execute("SET work_mem = '256MB'")  # a fair baseline: room to hash and sort in memory
        for _ in range(RUNS + 1):
            t = time.perf_counter()
            expected = await baseline(conn, first, last)
            baseline_times.append(time.perf_counter() - t)
    finally:
        await conn.close()
        await engine.dispose()
    got = {key: figures for key, figures in answer.rows} | {(): answer.totals}
    equal = got == expected
    service_s, baseline_s = _median_seconds(service_times[1:]), _median_seconds(baseline_times[1:])
    ratio = baseline_s / service_s
    print(f"dashboard (county, 2026 by month and theme, {len(answer.rows)} rows + totals):")
    print(f"  service (roll-ups):  {service_s * 1000:9.2f} ms")
    print(f"  plain GROUP BY:      {baseline_s * 1000:9.2f} ms")
    print(f"  ratio:               {ratio:9.0f}x (goal >= {GOAL:.0f}x)")
    print(f"  numbers equal:       {equal}")
    print(f"  totals: {json.dumps(answer.totals.as_dict(), ensure_ascii=False)}")
    verdict = "PASS" if equal and ratio >= GOAL else "FAIL"
    summary = f"stats dashboard {ratio:.0f}x faster than the plain GROUP BY over {rows:,} rows, equal={equal}"
    print(f"{verdict}: {summary}")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    asyncio.run(main(count, sys.argv[2] if len(sys.argv) > 2 else DEFAULT_URL))
