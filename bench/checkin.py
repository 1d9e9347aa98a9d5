"""Check-in throughput: 1,000 volunteers scanning one event's code at once, on PostgreSQL.

Run: ``python bench/checkin.py [database_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_checkin``; the database is created if
missing and its schema rebuilt). Both sides are measured the same way: called in process as an
ASGI server calls an app (no HTTP client in between), the same concurrency, and the same ceiling
of 30 database connections kept open (the application's pool; the baseline's asyncpg pool):

- service: ``POST /api/v1/checkins`` of the real app (bearer token, the signed code, the account
  and sign-up check, insert of the attendance row, its outbox row, the answer; the outbox relay
  delivers later and is not part of the request);
- baseline: a bare FastAPI endpoint on an asyncpg pool doing one INSERT.

The machine may be busy with other work, so the two sides take turns: ``ROUNDS`` rounds of
``VOLUNTEERS / ROUNDS`` requests each, which side goes first alternating, and each side's
throughput is its requests over its summed time. Prints both, their ratio (goal >= 0.5, DESIGN
§6), the spread of the per-round ratios, and that each volunteer has exactly one attendance row,
then one summary line.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from fastapi import FastAPI, Request
from in_process import (
    SECRET,
    Call,
    Run,
    add_volunteers,
    bearer,
    bench_app,
    fire,
    published_event,
    take_turns,
)
from pydantic import BaseModel
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.attendance.models import Attendance
from coordinator.attendance.tokens import checkin_token
from coordinator.auth.models import User
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.events.models import Event, Signup, SignupSource, SignupStatus
from coordinator.migrate import asyncpg_dsn, fresh_database

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_checkin"
VOLUNTEERS = 1_000
WARM_UP = 300  # opens all 30 pooled connections and prepares the statements on each
CONCURRENCY = 30  # the application's pool: 30 connections (coordinator.db.create_engine)
ROUNDS = 5
GOAL = 0.5
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seed:
    event_ids: list[int]  # warm-up, measured
    volunteers: list[tuple[int, User]]  # (person id, login)


async def _fresh_database(url: str) -> None:
    """The service's schema, plus the one table the bare endpoint writes."""
    await fresh_database(url)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE bench_checkins"
                " (id serial PRIMARY KEY, event_id int, person_id int, at timestamptz)"
            )
        )
    await engine.dispose()


async def _seed(url: str) -> Seed:
    """A station, two events (warm-up and measured, check-in open), 1,000 volunteers confirmed
    for both, each with a login."""
    engine = create_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        station_id, volunteers = await add_volunteers(session, VOLUNTEERS, NOW)
        starts = NOW + timedelta(minutes=30)  # check-in is open
        events = [published_event(station_id, n, starts=starts, places=VOLUNTEERS, now=NOW) for n in range(2)]
        session.add_all(events)
        await session.flush()
        for event in events:
            event.roles[0].confirmed_count = VOLUNTEERS
            session.add_all(
                Signup(
                    event_id=event.id,
                    role_id=event.roles[0].id,
                    person_id=person_id,
                    status=SignupStatus.confirmed,
                    source=SignupSource.self,
                    created_at=NOW,
                    updated_at=NOW,
                    confirmed_at=NOW,
                )
                for person_id, _ in volunteers
            )
        await session.flush()
        seed = Seed([e.id for e in events], volunteers)
    await engine.dispose()
    return seed


async def _through_service(app: FastAPI, event_id: int, seed: Seed) -> Run:
    event = Event(id=event_id, starts_at=NOW + timedelta(minutes=30), ends_at=NOW + timedelta(minutes=150))
    code = checkin_token(SECRET, event, now=NOW)
    calls = [("/api/v1/checkins", {"token": code}, bearer(app, user)) for _, user in seed.volunteers]
    run, _ = await fire(app, calls, concurrency=CONCURRENCY, ok=200)
    return run


class BareCheckin(BaseModel):
    event_id: int
    person_id: int


def _bare_app(url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            asyncpg_dsn(url), min_size=CONCURRENCY, max_size=CONCURRENCY
        )
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/checkins")
    async def checkin(data: BareCheckin, request: Request) -> dict[str, int]:
        row_id = await request.app.state.pool.fetchval(
            "INSERT INTO bench_checkins (event_id, person_id, at) VALUES ($1, $2, now()) RETURNING id",
            data.event_id,
            data.person_id,
        )
        return {"id": row_id}

    return app


async def _bare(app: FastAPI, event_id: int, seed: Seed) -> Run:
    calls: list[Call] = [
        ("/checkins", {"event_id": event_id, "person_id": p}, {}) for p, _ in seed.volunteers
    ]
    run, _ = await fire(app, calls, concurrency=CONCURRENCY, ok=200)
    return run


async def _rows_per_person(url: str, event_id: int) -> tuple[int, int]:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalar(select(func.count()).where(Attendance.event_id == event_id))
        people = await session.scalar(
            select(func.count(func.distinct(Attendance.person_id))).where(Attendance.event_id == event_id)
        )
    await engine.dispose()
    return int(rows or 0), int(people or 0)


async def main(url: str) -> int:
    await _fresh_database(url)
    seed = await _seed(url)
    app = bench_app(url, NOW)
    bare_app = _bare_app(url)
    size = VOLUNTEERS // ROUNDS

    def part(n: int) -> Seed:
        return Seed(seed.event_ids, seed.volunteers[n * size : (n + 1) * size])

    async with bare_app.router.lifespan_context(bare_app):
        warm = Seed(seed.event_ids, seed.volunteers[:WARM_UP])
        await _through_service(app, seed.event_ids[0], warm)
        await _bare(bare_app, seed.event_ids[0], warm)
        turns = await take_turns(
            ROUNDS,
            lambda n: _through_service(app, seed.event_ids[1], part(n)),
            lambda n: _bare(bare_app, seed.event_ids[1], part(n)),
        )
    await app.state.engine.dispose()
    rows, people = await _rows_per_person(url, seed.event_ids[1])
    service, bare = turns.service, turns.bare
    print(
        f"{VOLUNTEERS} volunteers checking in to one event, PostgreSQL, concurrency {CONCURRENCY},"
        f" {ROUNDS} alternating rounds"
    )
    print(
        f"  service POST /checkins:      {service.per_second:8.0f}/s  ({service.seconds:.2f} s)"
        f"  failed {service.failures}"
    )
    print(
        f"  bare FastAPI + one INSERT:   {bare.per_second:8.0f}/s  ({bare.seconds:.2f} s)"
        f"  failed {bare.failures}"
    )
    print(f"  per-round ratios: {turns.round_ratios()}")
    exact = rows == people == VOLUNTEERS and service.failures == 0
    verdict = "ok" if exact and turns.ratio >= GOAL else "BELOW GOAL" if exact else "WRONG COUNT"
    print(
        f"checkin: rows={rows}/{VOLUNTEERS} service={service.per_second:.0f}/s bare={bare.per_second:.0f}/s "
        f"ratio={turns.ratio:.2f} (goal >= {GOAL}) {verdict}"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)))
