"""Sign-up contention: 1,000 concurrent sign-ups for 100 places of one role, on PostgreSQL.

Run: ``python bench/signup_contention.py [database_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_signups``; the database is created if
missing and its schema rebuilt). Both sides keep at most 30 requests in flight on 30 kept
database connections (the application's pool; the baseline's asyncpg pool):

- service: ``POST /api/v1/events/{id}/signups`` of the real app, called in process as its ASGI
  server would call it (see ``in_process``): each volunteer signs themselves up with the bearer
  token of their own login; every rule, the role and person locks, the outbox row, the answer
  with the waiting position;
- baseline: a bare asyncpg loop doing only the role's row lock, the insert and the count update.

The two sides take turns in ``ROUNDS`` rounds of ``REQUESTS / ROUNDS`` sign-ups, each side on its
own event. Prints both throughputs, their ratio (goal >= 0.45), the per-round ratios, and checks
that exactly 100 were confirmed (and counted on the role) and 900 told waiting positions
1..900, then one summary line.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from in_process import (
    Answer,
    Run,
    Turns,
    add_volunteers,
    bearer,
    bench_app,
    fire,
    published_event,
    take_turns,
)

import coordinator.models  # noqa: F401
from coordinator.auth.models import User
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.migrate import asyncpg_dsn, fresh_database

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_signups"
REQUESTS = 1_000
PLACES = 100
WARM_UP = 300  # opens all 30 connections on each side and prepares both paths' statements on each
POOL = 30  # the application's pool: 30 connections (coordinator.db.create_engine)
ROUNDS = 5
GOAL = 0.45  # DESIGN §6
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seed:
    volunteers: list[tuple[int, User]]  # (person id, login)
    events: list[tuple[int, int]]  # (event id, role id): service warm-up, bare warm-up, service, bare


async def _seed(url: str) -> Seed:
    """1,000 volunteers with logins; four events a week ahead with one role of 100 places."""
    engine = create_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        station_id, volunteers = await add_volunteers(session, REQUESTS, NOW)
        events = [
            published_event(station_id, n, starts=NOW + timedelta(days=7 + n), places=PLACES, now=NOW)
            for n in range(4)
        ]
        session.add_all(events)
        await session.flush()
        seed = Seed(volunteers, [(e.id, e.roles[0].id) for e in events])
    await engine.dispose()
    return seed


async def _through_app(
    app: FastAPI, event_id: int, volunteers: list[tuple[int, User]]
) -> tuple[Run, list[Answer]]:
    calls = [
        (f"/api/v1/events/{event_id}/signups", {"person_id": person_id}, bearer(app, user))
        for person_id, user in volunteers
    ]
    return await fire(app, calls, concurrency=POOL, ok=201)


async def _bare(pool: asyncpg.Pool, event_id: int, role_id: int, person_ids: list[int]) -> Run:
    """The same lock, insert and count update in raw asyncpg (the pool's 30 connections are the
    concurrency)."""

    async def one(person_id: int) -> None:
        async with pool.acquire() as connection, connection.transaction():
            count, confirmed, seq = await connection.fetchrow(
                "SELECT count, confirmed_count, next_waitlist_seq FROM event_roles WHERE id = $1 FOR UPDATE",
                role_id,
            )
            status = "confirmed" if confirmed < count else "waitlisted"
            await connection.execute(
                "INSERT INTO signups (event_id, role_id, person_id, status, source, waitlist_seq,"
                " created_at, updated_at) VALUES ($1, $2, $3, $4, 'self', $5, now(), now())",
                event_id,
                role_id,
                person_id,
                status,
                None if status == "confirmed" else seq,
            )
            await connection.execute(
                "UPDATE event_roles SET confirmed_count = $2, next_waitlist_seq = $3 WHERE id = $1",
                role_id,
                confirmed + (status == "confirmed"),
                seq + (status == "waitlisted"),
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in person_ids))
    return Run(len(person_ids), time.perf_counter() - started, 0)


async def _stored(pool: asyncpg.Pool, event_id: int, role_id: int) -> Counter[str]:
    """The event's sign-ups by status, and the role's confirmed count as ``count``."""
    rows = await pool.fetch(
        "SELECT status, count(*) FROM signups WHERE event_id = $1 GROUP BY status", event_id
    )
    count = await pool.fetchval("SELECT confirmed_count FROM event_roles WHERE id = $1", role_id)
    return Counter({**{row[0]: row[1] for row in rows}, "count": count})


def _told(responses: list[Answer]) -> tuple[Counter[str], list[int]]:
    """Statuses answered, and the waiting positions answered, sorted."""
    bodies = [r.json() for r in responses if r.status_code == 201]
    positions = sorted(b["position"] for b in bodies if b["status"] == "waitlisted")
    return Counter(b["status"] for b in bodies), positions


async def main(url: str) -> int:
    await fresh_database(url)
    seed = await _seed(url)
    (warm_app, _), (warm_bare, warm_role), (app_event, app_role), (bare_event, bare_role) = seed.events
    app = bench_app(url, NOW)
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=POOL, max_size=POOL)
    answers: list[Answer] = []
    size = REQUESTS // ROUNDS

    async def service(n: int) -> Run:
        run, responses = await _through_app(app, app_event, seed.volunteers[n * size : (n + 1) * size])
        answers.extend(responses)
        return run

    async def bare(n: int) -> Run:
        people = [p for p, _ in seed.volunteers[n * size : (n + 1) * size]]
        return await _bare(pool, bare_event, bare_role, people)

    await _through_app(app, warm_app, seed.volunteers[:WARM_UP])
    await _bare(pool, warm_bare, warm_role, [p for p, _ in seed.volunteers[:WARM_UP]])
    turns = await take_turns(ROUNDS, service, bare)
    app_stored, bare_stored = (
        await _stored(pool, app_event, app_role),
        await _stored(pool, bare_event, bare_role),
    )
    await pool.close()
    await app.state.engine.dispose()
    return _report(turns, answers, app_stored, bare_stored)


def _report(turns: Turns, answers: list[Answer], app_stored: Counter[str], bare_stored: Counter[str]) -> int:
    """Prints the figures and the summary line; answers 0 if every count and position is exact."""
    told, positions = _told(answers)
    waiting = REQUESTS - PLACES
    in_order = positions == list(range(1, waiting + 1))
    exact = (
        turns.service.failures == 0
        and in_order
        and told == Counter(confirmed=PLACES, waitlisted=waiting)
        and app_stored == bare_stored == Counter(confirmed=PLACES, waitlisted=waiting, count=PLACES)
    )
    app_run, bare_run = turns.service, turns.bare
    print(
        f"{REQUESTS} sign-ups for {PLACES} places of one role, PostgreSQL, {POOL} in flight, {ROUNDS} rounds"
    )
    print(
        f"  service POST /signups:          {app_run.per_second:8.0f}/s  ({app_run.seconds:.2f} s)"
        f"  failed {app_run.failures}; confirmed {told['confirmed']}, waitlisted {told['waitlisted']}"
        f" told positions {f'1..{waiting}' if in_order else 'out of order'}"
    )
    print(
        f"  bare asyncpg lock + insert:     {bare_run.per_second:8.0f}/s  ({bare_run.seconds:.2f} s)"
        f"  confirmed {bare_stored['confirmed']}, waitlisted {bare_stored['waitlisted']}"
    )
    print(f"  per-round ratios: {turns.round_ratios()}")
    verdict = "ok" if exact and turns.ratio >= GOAL else "BELOW GOAL" if exact else "WRONG COUNT"
    print(
        f"signup_contention: confirmed={told['confirmed']}/{PLACES} service={app_run.per_second:.0f}/s "
        f"bare={bare_run.per_second:.0f}/s ratio={turns.ratio:.2f} (goal >= {GOAL}) {verdict}"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)))
