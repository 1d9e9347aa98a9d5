"""Sign-up contention: 1,000 concurrent sign-ups for 100 places of one role on PostgreSQL.

Run: ``python bench/signup_contention.py [database_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_signups``; the database is created if
missing and its schema rebuilt). Each sign-up is its own transaction through the service
(``coordinator.events.signups.sign_up``: every rule, the role lock, the person lock, the outbox
row). The baseline is a bare asyncpg loop doing only the role row lock, the insert and the count
update, with the same pool size and the same concurrency. Prints both throughputs, their ratio
(goal ≥ 0.5) and that exactly 100 were confirmed, then one summary line.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupSource, SignupStatus
from coordinator.events.signups import sign_up
from coordinator.migrate import asyncpg_dsn, fresh_database
from coordinator.people.models import Person
from coordinator.stations.models import Station

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_signups"
REQUESTS = 1_000
PLACES = 100
WARM_UP = 50
POOL = 30  # the application's pool: pool_size 10 + max_overflow 20
GOAL = 0.5
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    seconds: float
    confirmed: int
    waitlisted: int

    @property
    def per_second(self) -> float:
        return REQUESTS / self.seconds


async def _seed(url: str) -> tuple[list[int], list[int], list[int]]:
    """1,000 people; four events a week ahead with one role of 100 places each (warm-up and
    measured, for the service and for the baseline). Answers people and role ids, event ids."""
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
            for i in range(REQUESTS)
        ]
        session.add_all(people)
        events = []
        for n in range(4):
            starts = NOW + timedelta(days=7 + n)
            event = Event(
                station_id=station.id,
                theme="party_volunteer_drive",
                title=f"党建志愿服务{n}",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=PLACES,
                status=EventStatus.published,
                reminder_offsets=[],
                target_categories=[],
                created_at=NOW,
                updated_at=NOW,
                published_at=NOW,
            )
            event.roles = [EventRole(position=0, name="志愿者", count=PLACES, skills=[], languages=[])]
            events.append(event)
        session.add_all(events)
        await session.flush()
        ids = [p.id for p in people], [e.roles[0].id for e in events], [e.id for e in events]
    await engine.dispose()
    return ids


async def _through_service(url: str, event_id: int, person_ids: list[int]) -> Run:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    clock = FixedClock(NOW)

    gate = asyncio.Semaphore(POOL)  # wait for a connection here, not in the pool's 30 s timeout

    async def one(person_id: int) -> None:
        async with gate, transaction(sessionmaker) as session:
            await sign_up(
                session, clock, event_id=event_id, person_id=person_id, role_id=None, source=SignupSource.self
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in person_ids))
    seconds = time.perf_counter() - started
    async with sessionmaker() as session:
        counts = dict(
            (status, n)
            for status, n in await session.execute(
                select(Signup.status, func.count()).where(Signup.event_id == event_id).group_by(Signup.status)
            )
        )
    await engine.dispose()
    return Run(seconds, counts.get(SignupStatus.confirmed, 0), counts.get(SignupStatus.waitlisted, 0))


async def _bare_asyncpg(url: str, event_id: int, role_id: int, person_ids: list[int]) -> Run:
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=POOL, max_size=POOL)

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
    seconds = time.perf_counter() - started
    rows = await pool.fetch(
        "SELECT status, count(*) AS n FROM signups WHERE event_id = $1 GROUP BY status", event_id
    )
    await pool.close()
    counts = {row["status"]: row["n"] for row in rows}
    return Run(seconds, counts.get("confirmed", 0), counts.get("waitlisted", 0))


async def main(url: str) -> int:
    await fresh_database(url)
    people, roles, events = await _seed(url)
    await _through_service(url, events[0], people[:WARM_UP])
    await _bare_asyncpg(url, events[1], roles[1], people[:WARM_UP])
    service = await _through_service(url, events[2], people)
    bare = await _bare_asyncpg(url, events[3], roles[3], people)
    ratio = service.per_second / bare.per_second
    print(f"{REQUESTS} concurrent sign-ups for {PLACES} places, PostgreSQL, pool {POOL}")
    print(
        f"  service (sign_up, all rules):  {service.per_second:8.0f}/s  ({service.seconds:.2f} s)"
        f"  confirmed {service.confirmed}, waitlisted {service.waitlisted}"
    )
    print(
        f"  bare asyncpg lock + insert:    {bare.per_second:8.0f}/s  ({bare.seconds:.2f} s)"
        f"  confirmed {bare.confirmed}, waitlisted {bare.waitlisted}"
    )
    exact = service.confirmed == PLACES and service.waitlisted == REQUESTS - PLACES
    verdict = "ok" if exact and ratio >= GOAL else "BELOW GOAL" if exact else "WRONG COUNT"
    print(
        f"signup_contention: confirmed={service.confirmed}/{PLACES} service={service.per_second:.0f}/s "
        f"bare={bare.per_second:.0f}/s ratio={ratio:.2f} (goal >= {GOAL}) {verdict}"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)))
