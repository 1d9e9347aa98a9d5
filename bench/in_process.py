"""What the benchmarks that call the real app in process share.

The app is ``coordinator.app.create_app`` on real settings (PostgreSQL, no scheduler, no
per-request log lines) and a fixed clock; each request is handed to it as an ASGI server hands
one over (``post``: no HTTP client, whose own cost is not the app's), at most ``concurrency`` at a
time, each volunteer with the bearer token of their own login. Both sides of
a comparison take turns in rounds (the machine may be busy with other work) and each side's
throughput is its requests over its summed time.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tree this file is in

from coordinator.app import create_app
from coordinator.auth.models import Role, User, UserStation
from coordinator.auth.service import issue_access_token
from coordinator.clock import FixedClock
from coordinator.events.models import Event, EventRole, EventStatus
from coordinator.heap import freeze_startup_heap
from coordinator.observability.logging import configure_logging
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"

Headers = dict[str, str]
Call = tuple[str, dict[str, Any], Headers]  # path, JSON body, headers of one POST


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    failures: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def bench_app(url: str, now: datetime) -> FastAPI:
    """The real app on ``url``, its clock stopped at ``now``; its lifespan is not started (no
    relay or scheduler running beside the requests). Like ``coordinator serve``, the heap built
    so far is frozen (``coordinator.heap``)."""
    settings = Settings(database_url=url, secret_key=SECRET, scheduler_enabled=False, log_level="WARNING")
    configure_logging(settings)  # no per-request log lines
    app = create_app(settings, clock=FixedClock(now))
    freeze_startup_heap()
    return app


def bearer(app: FastAPI, user: User) -> Headers:
    token = issue_access_token(settings=app.state.settings, clock=app.state.clock, user=user)
    return {"Authorization": f"Bearer {token}"}


async def add_volunteers(
    session: AsyncSession, count: int, now: datetime
) -> tuple[int, list[tuple[int, User]]]:
    """A station and ``count`` volunteers, each with a login; answers the station id and
    (person id, login) pairs."""
    station = Station(name="凯里市营盘坡社区社工站", code="bench", timezone="Asia/Shanghai", created_at=now)
    session.add(station)
    await session.flush()
    people = [
        Person(
            station_id=station.id, name=f"志愿者{i}", phone=f"+86138{i:08d}", created_at=now, updated_at=now
        )
        for i in range(count)
    ]
    session.add_all(people)
    await session.flush()
    users = [User(role=Role.volunteer, person_id=p.id, is_active=True, created_at=now) for p in people]
    session.add_all(users)
    await session.flush()
    # As a volunteer's phone login makes them: the account sees its person's station.
    session.add_all(UserStation(user_id=u.id, station_id=station.id) for u in users)
    await session.flush()
    return station.id, [(p.id, u) for p, u in zip(people, users, strict=True)]


def published_event(station_id: int, n: int, *, starts: datetime, places: int, now: datetime) -> Event:
    """A published two-hour event with one role of ``places`` places."""
    event = Event(
        station_id=station_id,
        theme="party_volunteer_drive",
        title=f"党建志愿服务{n}",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=places,
        status=EventStatus.published,
        reminder_offsets=[],
        target_categories=[],
        created_at=now,
        updated_at=now,
        published_at=now,
    )
    event.roles = [EventRole(position=0, name="志愿者", count=places, skills=[], languages=[])]
    return event


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def post(app: FastAPI, path: str, body: dict[str, Any], headers: Headers) -> Answer:
    """One POST handed to the app as an ASGI server hands it over: the scope, the body in one
    message, and the answer's messages collected (no HTTP client in between)."""
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers.items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # the client never disconnects
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return Answer(status, b"".join(chunks))


async def fire(app: FastAPI, calls: Sequence[Call], *, concurrency: int, ok: int) -> tuple[Run, list[Answer]]:
    """POST every call, ``concurrency`` at a time; a failure is an answer other than ``ok``."""
    gate = asyncio.Semaphore(concurrency)

    async def one(path: str, body: dict[str, Any], headers: Headers) -> Answer:
        async with gate:
            return await post(app, path, body, headers)

    started = time.perf_counter()
    responses = await asyncio.gather(*(one(*call) for call in calls))
    seconds = time.perf_counter() - started
    failures = sum(1 for response in responses if response.status_code != ok)
    return Run(len(calls), seconds, failures), list(responses)


@dataclass(frozen=True)
class Turns:
    services: list[Run]
    bares: list[Run]

    @property
    def service(self) -> Run:
        return _total(self.services)

    @property
    def bare(self) -> Run:
        return _total(self.bares)

    @property
    def ratio(self) -> float:
        return self.service.per_second / self.bare.per_second

    def round_ratios(self) -> str:
        ratios = sorted(s.per_second / b.per_second for s, b in zip(self.services, self.bares, strict=True))
        return " ".join(f"{r:.2f}" for r in ratios)


async def take_turns(
    rounds: int, service: Callable[[int], Awaitable[Run]], bare: Callable[[int], Awaitable[Run]]
) -> Turns:
    """Round ``n`` of each side, the side that goes first alternating."""
    turns = Turns([], [])
    for n in range(rounds):
        if n % 2 == 0:
            turns.services.append(await service(n))
            turns.bares.append(await bare(n))
        else:
            turns.bares.append(await bare(n))
            turns.services.append(await service(n))
    return turns


def _total(runs: list[Run]) -> Run:
    return Run(sum(r.requests for r in runs), sum(r.seconds for r in runs), sum(r.failures for r in runs))
