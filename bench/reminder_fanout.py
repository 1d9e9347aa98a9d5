"""Reminder fan-out: 100,000 due reminders drained through a local fake SMS gateway by one and by
two ``coordinator worker`` processes on PostgreSQL.

Run: ``python bench/reminder_fanout.py [database_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_fanout``; the database is created if
missing and its schema rebuilt). The workers are the real command with the Aliyun SMS channel
(RPC-signed SendBatchSms and SendSms requests over httpx) pointed at the gateway, a separate
process that answers ``OK`` and counts every message by its recipient and text, so a message
sent twice shows, alone or in two batches. 20,000 people get five reminders each (within the
default daily cap). For each run the workers start first; once they are up, one UPDATE makes all
100,000 reminders due at that instant. Prints per run the throughput per process (goal ≥ 2,000/s),
the p99 lateness (handed to the gateway − due time), duplicates at the gateway (must be 0) and
reminders per CPU-second of a worker (what a process would do with a core to itself: on a busy
host the wall-clock figures mostly measure the other load), then the 2-vs-1 ratio (goal ≥ 1.7)
and one summary line.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import httpx
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import coordinator.models  # noqa: F401
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.migrate import asyncpg_dsn, fresh_database
from coordinator.notify.models import Notification
from coordinator.notify.rendering import render
from coordinator.people.models import Person
from coordinator.stations.models import Station

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_fanout"
# FANOUT_REMINDERS=10000 for a quick look; the figures in README are from the full 100,000.
REMINDERS = int(os.environ.get("FANOUT_REMINDERS", "100000"))
PEOPLE = max(REMINDERS // 5, 1)
GOAL_PER_PROCESS = 2_000.0
GOAL_RATIO = 1.7
# httpcore scans its whole pool on every request event: a small pool costs least CPU per message,
# and a local gateway answers fast enough that 25 requests in flight keep a worker busy.
BATCH = 250
CONCURRENCY = 25
ACCESS_KEY_ID = "LTAI-bench"
ACCESS_KEY_SECRET = "bench-secret"
COORDINATOR = str(Path(sys.executable).parent / "coordinator")


# --- the gateway: its own process, so counting never competes with the workers' event loop ------


class Gateway:
    """A bare ASGI app: answers every SendSms and SendBatchSms with OK and counts each message by
    what its recipient would read (phone and parameters: every reminder of the bench says
    something of its own), so a message sent twice, alone or in two batches, shows."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.requests = 0
        self.first = 0.0
        self.last = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/stats":
            body = json.dumps(
                {
                    "total": sum(self.counts.values()),
                    "distinct": len(self.counts),
                    "duplicates": sum(n - 1 for n in self.counts.values() if n > 1),
                    "requests": self.requests,
                    "first": self.first,
                    "last": self.last,
                }
            ).encode()
        elif scope["path"] == "/reset":
            self.counts.clear()
            self.requests = 0
            self.first = self.last = 0.0
            body = b"{}"
        else:
            self.count(await request_params(scope, receive))
            body = b'{"RequestId":"r","Code":"OK","Message":"OK","BizId":"biz-%d"}' % self.requests
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def count(self, params: dict[str, str]) -> None:
        self.requests += 1
        if params.get("Action") == "SendBatchSms":
            phones, texts = json.loads(params["PhoneNumberJson"]), json.loads(params["TemplateParamJson"])
            self.counts.update(
                (phone, json.dumps(text, sort_keys=True)) for phone, text in zip(phones, texts, strict=True)
            )
        else:
            self.counts[
                (params["PhoneNumbers"], json.dumps(json.loads(params["TemplateParam"]), sort_keys=True))
            ] += 1
        self.last = time.time()
        self.first = self.first or self.last


async def request_params(scope: dict[str, Any], receive: Any) -> dict[str, str]:
    """The RPC parameters of a GET (query) or POST (form body) request."""
    if scope["method"] != "POST":
        return dict(parse_qsl(scope["query_string"].decode()))
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return dict(parse_qsl(body.decode()))


def run_gateway(port: int) -> None:
    import uvicorn

    uvicorn.run(Gateway(), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


# --- database ------------------------------------------------------------------------------------


async def seed(url: str) -> None:
    """20,000 people with five reminders each, not yet due (``arm`` makes them due)."""
    now = datetime.now(UTC)
    later = now + timedelta(days=1)
    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            station = Station(name="营盘坡社区", code="bench", timezone="Asia/Shanghai", created_at=now)
            session.add(station)
            await session.flush()
            await session.execute(
                insert(Person),
                [
                    {
                        "station_id": station.id,
                        "name": f"志愿者{i}",
                        "phone": f"+86139{i:08d}",
                        "quiet_hours_start": "00:00",
                        "quiet_hours_end": "00:00",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(PEOPLE)
                ],
            )
            people = (await session.execute(select(Person.id, Person.phone).order_by(Person.id))).all()
            context = {
                "name": "志愿者",
                "time": "12月6日（周日）10:00",
                "place": "村委会",
                "phone": "08558888888",
            }
            for start in range(0, REMINDERS, 10_000):
                rows = []
                for n in range(start, min(start + 10_000, REMINDERS)):
                    person_id, phone = people[n % PEOPLE]
                    title = f"重阳节探访（第{n // PEOPLE + 1}场）"  # each of a person's five says its own
                    key = f"reminder:e{n // PEOPLE}:p{person_id}:P1D"
                    rows.append(
                        {
                            "idempotency_key": f"{key}:sms",
                            "plan_key": key,
                            "station_id": station.id,
                            "person_id": person_id,
                            "reason": "reminder",
                            "offset": "P1D",
                            "channel": "sms",
                            "fallback_channels": [],
                            "status": "pending",
                            "due_at": later,
                            "deadline": later + timedelta(days=1),
                            "attempts": 0,
                            "next_attempt_at": later,
                            "payload": render("reminder", "sms", phone, {**context, "title": title}),
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                await session.execute(insert(Notification), rows)
    finally:
        await engine.dispose()


async def reset(url: str) -> None:
    """Every reminder pending again and not yet due."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            "UPDATE notifications SET status = 'pending', attempts = 0, lease_until = NULL, sent_at = NULL,"
            " provider = NULL, provider_message_id = NULL, last_error = NULL,"
            " due_at = now() + interval '1 day', next_attempt_at = now() + interval '1 day'"
        )
        await connection.execute("VACUUM ANALYZE notifications")
    finally:
        await connection.close()


async def arm(url: str) -> None:
    """All reminders fall due at this instant (the database's clock, as the workers read theirs)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("UPDATE notifications SET due_at = now(), next_attempt_at = now()")
    finally:
        await connection.close()


@dataclass(frozen=True)
class Result:
    processes: int
    seconds: float
    p99_lateness: float
    duplicates: int
    delivered: int
    cpu_seconds: float  # of the worker processes together (user + system)
    host_busy: float  # share of all the host's cores busy during the drain (0..1)
    postgres_cores: float  # CPU-seconds of the PostgreSQL processes per second of the drain

    @property
    def per_process(self) -> float:
        return self.delivered / self.seconds / self.processes

    @property
    def per_cpu_second(self) -> float:
        """What one process would drain with a core to itself (robust to a busy host)."""
        return self.delivered / self.cpu_seconds if self.cpu_seconds else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process (they share the host with the workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass(frozen=True)
class HostSample:
    """Busy and total jiffies of all cores (``/proc/stat``), and PostgreSQL's CPU time."""

    busy: int
    total: int
    postgres: float
    at: float

    @classmethod
    def now(cls) -> HostSample:
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle + iowait
        return cls(
            busy=sum(ticks) - idle, total=sum(ticks), postgres=postgres_cpu_seconds(), at=time.monotonic()
        )

    def since(self, start: HostSample) -> tuple[float, float]:
        """(share of the host busy, PostgreSQL cores in use) between ``start`` and this sample."""
        busy = (self.busy - start.busy) / max(self.total - start.total, 1)
        return busy, (self.postgres - start.postgres) / max(self.at - start.at, 1e-9)


async def measure(
    url: str, processes: int, gateway_url: str, cpu: float, host: tuple[float, float]
) -> Result:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        row = await connection.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'sent') AS sent,"
            " extract(epoch FROM max(updated_at) - min(due_at)) AS seconds,"
            " extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY sent_at - due_at)) AS p99"
            " FROM notifications"
        )
    finally:
        await connection.close()
    async with httpx.AsyncClient() as http:
        stats = (await http.get(f"{gateway_url}/stats")).json()
    assert row is not None
    return Result(
        processes=processes,
        seconds=float(row["seconds"]),
        p99_lateness=float(row["p99"]),
        duplicates=int(stats["duplicates"]),
        delivered=int(stats["distinct"]),
        cpu_seconds=cpu,
        host_busy=host[0],
        postgres_cores=host[1],
    )


# --- the runs ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def worker_env(url: str, gateway_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDINATOR_")}
    env.update(
        {
            "COORDINATOR_DATABASE_URL": url,
            "COORDINATOR_SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "COORDINATOR_LOG_LEVEL": "INFO",
            "COORDINATOR_SMS_PROVIDER": "aliyun",
            "COORDINATOR_ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "COORDINATOR_ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "COORDINATOR_ALIYUN_SMS_SIGN_NAME": "凯里社工站",
            "COORDINATOR_ALIYUN_SMS_ENDPOINT": gateway_url,
            "COORDINATOR_ALIYUN_SMS_TEMPLATE_CODES": json.dumps({"reminder": "SMS_900001"}),
            "COORDINATOR_NOTIFY_BATCH_SIZE": str(BATCH),
            "COORDINATOR_NOTIFY_SEND_CONCURRENCY": str(CONCURRENCY),
            "COORDINATOR_NOTIFY_INTERVAL_SECONDS": "0.05",
        }
    )
    return env


async def start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    """A ``coordinator worker``, once it has logged that its scheduler runs (imports can take a
    while on a busy host); its output is read away from then on so the pipe never fills."""
    process = await asyncio.create_subprocess_exec(
        COORDINATOR, "worker", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert process.stdout is not None
    async with asyncio.timeout(180):
        while b"worker_started" not in (line := await process.stdout.readline()):
            if not line:
                raise RuntimeError(f"worker exited with {await process.wait()}")
    _readers.add(asyncio.create_task(process.stdout.read()))
    return process


_readers: set[asyncio.Task[bytes]] = set()


async def drained(url: str) -> bool:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        left = await connection.fetchval(
            "SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending')"
        )
    finally:
        await connection.close()
    return int(left) == 0


async def run(url: str, processes: int, gateway_url: str) -> Result:
    await reset(url)
    async with httpx.AsyncClient() as http:
        await http.post(f"{gateway_url}/reset")
    env = worker_env(url, gateway_url)
    workers = list(await asyncio.gather(*(start_worker(env) for _ in range(processes))))
    try:
        idle = sum(cpu_seconds(worker.pid) for worker in workers)  # start-up is not the work
        start = HostSample.now()
        await arm(url)
        while not await drained(url):  # noqa: ASYNC110  (the state is in the database)
            await asyncio.sleep(0.25)
        host = HostSample.now().since(start)
        cpu = sum(cpu_seconds(worker.pid) for worker in workers) - idle
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await worker.wait()
    return await measure(url, processes, gateway_url, cpu, host)


def show(result: Result) -> None:
    print(
        f"{result.processes} worker process(es): {result.delivered:,} reminders in {result.seconds:.1f} s = "
        f"{result.per_process:,.0f}/s per process (goal ≥ {GOAL_PER_PROCESS:,.0f}); "
        f"p99 lateness {result.p99_lateness:.2f} s; duplicates {result.duplicates}; "
        f"{result.per_cpu_second:,.0f} per CPU-second of a worker; host {result.host_busy:.0%} busy "
        f"of {os.cpu_count()} cores, PostgreSQL using {result.postgres_cores:.2f} of them"
    )


async def main(url: str) -> int:
    port = free_port()
    gateway = await asyncio.create_subprocess_exec(sys.executable, __file__, "--gateway", str(port))
    gateway_url = f"http://127.0.0.1:{port}"
    try:
        await fresh_database(url)
        await seed(url)
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    await http.get(f"{gateway_url}/stats")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        print(f"{REMINDERS:,} due reminders, {PEOPLE:,} people, PostgreSQL, Aliyun channel → local gateway")
        one = await run(url, 1, gateway_url)
        show(one)
        two = await run(url, 2, gateway_url)
        show(two)
    finally:
        gateway.send_signal(signal.SIGTERM)
        await gateway.wait()
    ratio = (two.delivered / two.seconds) / (one.delivered / one.seconds)
    ok = (
        min(one.per_process, two.per_process) >= GOAL_PER_PROCESS
        and ratio >= GOAL_RATIO
        and one.duplicates == two.duplicates == 0
        and one.delivered == two.delivered == REMINDERS
    )
    print(f"2 vs 1 process throughput: {ratio:.2f}× (goal ≥ {GOAL_RATIO})")
    print(
        f"SUMMARY reminder_fanout per_process_1={one.per_process:.0f}/s "
        f"per_process_2={two.per_process:.0f}/s "
        f"ratio={ratio:.2f} p99_lateness_1={one.p99_lateness:.1f}s p99_lateness_2={two.p99_lateness:.1f}s "
        f"duplicates={one.duplicates + two.duplicates} {'OK' if ok else 'BELOW GOAL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--gateway":
        run_gateway(int(sys.argv[2]))
    else:
        sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)))
