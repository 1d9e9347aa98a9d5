"""Check-in throughput: 1,000 volunteers scanning one event's code at once, on PostgreSQL.

Run: ``python bench/checkin.py [database_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_checkin``; the database is created if
missing and its schema rebuilt). Both sides are measured the same way: in process through
``httpx.ASGITransport``, the same concurrency, and the same ceiling of 30 database connections
kept open (the application's pool; the baseline's asyncpg pool):

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
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.app import create_app
from coordinator.attendance.models import Attendance
from coordinator.attendance.tokens import checkin_token
from coordinator.auth.models import Role, User
from coordinator.auth.service import issue_access_token
from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupSource, SignupStatus
from coordinator.migrate import asyncpg_dsn, fresh_database
from coordinator.observability.logging import configure_logging
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_checkin"
VOLUNTEERS = 1_000
WARM_UP = 300  # opens all 30 pooled connections and prepares the statements on each
CONCURRENCY = 30  # the application's pool: 30 connections (coordinator.db.create_engine)
ROUNDS = 5
GOAL = 0.5
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    failures: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


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


def _event(station_id: int, n: int) -> Event:
    starts = NOW + timedelta(minutes=30)  # check-in is open
    event = Event(
        station_id=station_id,
        theme="party_volunteer_drive",
        title=f"党建志愿服务{n}",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=VOLUNTEERS,
        status=EventStatus.published,
        reminder_offsets=[],
        target_categories=[],
        created_at=NOW,
        updated_at=NOW,
        published_at=NOW,
    )
    event.roles = [EventRole(position=0, name="志愿者", count=VOLUNTEERS, skills=[], languages=[])]
    return event


async def _seed(url: str) -> Seed:
    """A station, two events (warm-up and measured), 1,000 volunteers confirmed for both, each
    with a login."""
    engine = create_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        station = Station(
            name="凯里市营盘坡社区社工站", code="bench", timezone="Asia/Shanghai", created_at=NOW
        )
        session.add(station)
        await session.flush()
        people = [
            Person(
                station_id=station.id,
                name=f"志愿者{i}",
                phone=f"+86138{i:08d}",
                created_at=NOW,
                updated_at=NOW,
            )
            for i in range(VOLUNTEERS)
        ]
        events = [_event(station.id, n) for n in range(2)]
        session.add_all([*people, *events])
        await session.flush()
        users = [User(role=Role.volunteer, person_id=p.id, is_active=True, created_at=NOW) for p in people]
        session.add_all(users)
        for event in events:
            event.roles[0].confirmed_count = VOLUNTEERS
            session.add_all(
                Signup(
                    event_id=event.id,
                    role_id=event.roles[0].id,
                    person_id=p.id,
                    status=SignupStatus.confirmed,
                    source=SignupSource.self,
                    created_at=NOW,
                    updated_at=NOW,
                    confirmed_at=NOW,
                )
                for p in people
            )
        await session.flush()
        seed = Seed([e.id for e in events], [(p.id, u) for p, u in zip(people, users, strict=True)])
    await engine.dispose()
    return seed


async def _fire(app: FastAPI, requests: list[tuple[str, dict[str, Any], dict[str, str]]]) -> Run:
    gate = asyncio.Semaphore(CONCURRENCY)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def one(path: str, body: dict[str, Any], headers: dict[str, str]) -> bool:
            async with gate:
                response = await client.post(path, json=body, headers=headers)
                return response.status_code == 200

        started = time.perf_counter()
        results = await asyncio.gather(*(one(*r) for r in requests))
        seconds = time.perf_counter() - started
    return Run(len(requests), seconds, results.count(False))


async def _through_service(app: FastAPI, event_id: int, seed: Seed) -> Run:
    settings: Settings = app.state.settings
    clock: FixedClock = app.state.clock
    event = Event(id=event_id, starts_at=NOW + timedelta(minutes=30), ends_at=NOW + timedelta(minutes=150))
    code = checkin_token(SECRET, event, now=NOW)
    requests = [
        (
            "/api/v1/checkins",
            {"token": code},
            {"Authorization": f"Bearer {issue_access_token(settings=settings, clock=clock, user=user)}"},
        )
        for _, user in seed.volunteers
    ]
    return await _fire(app, requests)


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
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("/checkins", {"event_id": event_id, "person_id": p}, {}) for p, _ in seed.volunteers
    ]
    return await _fire(app, requests)


async def _rows_per_person(url: str, event_id: int) -> tuple[int, int]:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalar(select(func.count()).where(Attendance.event_id == event_id))
        people = await session.scalar(
            select(func.count(func.distinct(Attendance.person_id))).where(Attendance.event_id == event_id)
        )
    await engine.dispose()
    return int(rows or 0), int(people or 0)


def _total(runs: list[Run]) -> Run:
    return Run(sum(r.requests for r in runs), sum(r.seconds for r in runs), sum(r.failures for r in runs))


async def main(url: str) -> int:
    await _fresh_database(url)
    seed = await _seed(url)
    settings = Settings(database_url=url, secret_key=SECRET, scheduler_enabled=False, log_level="WARNING")
    configure_logging(settings)  # no per-request log lines on either side
    app = create_app(settings, clock=FixedClock(NOW))
    bare_app = _bare_app(url)
    services: list[Run] = []
    bares: list[Run] = []
    async with bare_app.router.lifespan_context(bare_app):
        warm = Seed(seed.event_ids, seed.volunteers[:WARM_UP])
        await _through_service(app, seed.event_ids[0], warm)
        await _bare(bare_app, seed.event_ids[0], warm)
        size = VOLUNTEERS // ROUNDS
        for n in range(ROUNDS):
            part = Seed(seed.event_ids, seed.volunteers[n * size : (n + 1) * size])
            if n % 2 == 0:
                services.append(await _through_service(app, seed.event_ids[1], part))
                bares.append(await _bare(bare_app, seed.event_ids[1], part))
            else:
                bares.append(await _bare(bare_app, seed.event_ids[1], part))
                services.append(await _through_service(app, seed.event_ids[1], part))
    await app.state.engine.dispose()
    rows, people = await _rows_per_person(url, seed.event_ids[1])
    service, bare = _total(services), _total(bares)
    ratio = service.per_second / bare.per_second
    rounds = sorted(s.per_second / b.per_second for s, b in zip(services, bares, strict=True))
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
    print(f"  per-round ratios: {' '.join(f'{r:.2f}' for r in rounds)}")
    exact = rows == people == VOLUNTEERS and service.failures == 0
    verdict = "ok" if exact and ratio >= GOAL else "BELOW GOAL" if exact else "WRONG COUNT"
    print(
        f"checkin: rows={rows}/{VOLUNTEERS} service={service.per_second:.0f}/s bare={bare.per_second:.0f}/s "
        f"ratio={ratio:.2f} (goal >= {GOAL}) {verdict}"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)))
