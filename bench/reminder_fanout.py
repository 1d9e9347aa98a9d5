"""Reminder fan-out: 100,000 due reminders drained through a local fake SMS gateway by one and by
two ``coordinator worker`` processes on PostgreSQL.

Run: ``python bench/reminder_fanout.py [database_url]`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/coord_bench_fanout``; the database is created if
missing and its schema rebuilt). The workers are the real command with the Aliyun SMS channel
(RPC-signed SendBatchSms and SendSms requests over httpx) pointed at the gateway, a separate
process that answers ``OK`` and counts every message by its recipient and text, so a message
sent twice shows, alone or in two batches. 20,000 people get five reminders each (within the
default daily cap). For each run the workers start first; once they are up, one UPDATE makes all
100,000 reminders due at one instant a few seconds ahead, committed before it.

Two pairs of runs (one worker, then two): the gateway answering after a provider's latency
(100 ms), on which the goals are judged, then answering at once. Prints per run the throughput
per process (goal ≥ 2,000/s), the p99 lateness (handed to the gateway − due time), duplicates at
the gateway (must be 0), reminders per CPU-second of a worker (what a process would do with a
core to itself) and how busy the host was; per pair the 2-vs-1 ratio (goal ≥ 1.7); then one
summary line.
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
# FANOUT_REMINDERS=10000 for a quick look; the figures in bench/README.md are from the full 100,000.
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
# A provider answers from across the internet, after checking the signature, sign name, template
# and every number: Aliyun advises a timeout of at least one second for its domestic SMS API. The
# bench takes 100 ms as a provider's answer (``FANOUT_LATENCY_MS`` to change it), and runs again
# with an instant answer, which measures how this host's cores are shared instead (see ``main``).
PROVIDER_LATENCY = float(os.environ.get("FANOUT_LATENCY_MS", "100")) / 1000
COORDINATOR = str(Path(sys.executable).parent / "coordinator")


# --- the gateway: its own process, so counting never competes with the workers' event loop ------


class Gateway:
    """A bare ASGI app standing in for Aliyun: answers every SendSms and SendBatchSms with OK.

    A real provider spends none of this host's CPU, so the gateway does as little as it can
    while the workers drain: it keeps each request's raw parameters and answers. Only ``/stats``
    (after the drain) parses them and counts each message by what its recipient would read
    (phone and parameters: every reminder of the bench says something of its own), so a message
    sent twice, alone or in two batches, shows."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.latency = 0.0  # seconds before each answer (a sleep: it costs the host no CPU)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/stats":
            counts = self.counts()
            body = json.dumps(
                {
                    "distinct": len(counts),
                    "duplicates": sum(n - 1 for n in counts.values() if n > 1),
                    "requests": len(self.raw),
                }
            ).encode()
        elif scope["path"] == "/reset":
            self.raw.clear()
            self.latency = float(dict(parse_qsl(scope["query_string"].decode()))["latency"])
            body = b"{}"
        else:
            self.raw.append(await raw_params(scope, receive))
            await asyncio.sleep(self.latency)
            body = b'{"RequestId":"r","Code":"OK","Message":"OK","BizId":"biz-%d"}' % len(self.raw)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def counts(self) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for raw in self.raw:
            params = dict(parse_qsl(raw.decode()))
            if params.get("Action") == "SendBatchSms":
                phones = json.loads(params["PhoneNumberJson"])
                texts = json.loads(params["TemplateParamJson"])
            else:
                phones, texts = [params["PhoneNumbers"]], [json.loads(params["TemplateParam"])]
            counts.update(
                (phone, json.dumps(text, sort_keys=True)) for phone, text in zip(phones, texts, strict=True)
            )
        return counts


async def raw_params(scope: dict[str, Any], receive: Any) -> bytes:
    """The RPC parameters of a GET (query string) or POST (form body) request, unparsed."""
    if scope["method"] != "POST":
        return bytes(scope["query_string"])
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


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


# How far ahead ``arm`` sets the due instant: its UPDATE of every row and the VACUUM after it must
# commit before then, so neither counts as drain time (rows a worker cannot see yet cannot go).
ARM_LEAD = timedelta(seconds=8)


async def arm(url: str) -> float:
    """All reminders fall due at one instant a little ahead (the database's clock, as the workers
    read theirs); answers how many seconds from now that is, once the rows are visible and the
    dead versions the UPDATE left are vacuumed (else autovacuum would run during the drain)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        due = await connection.fetchval("SELECT now() + $1::interval", ARM_LEAD)
        await connection.execute("UPDATE notifications SET due_at = $1, next_attempt_at = $1", due)
        await connection.execute("VACUUM ANALYZE notifications")
        left = float(await connection.fetchval("SELECT extract(epoch FROM $1 - clock_timestamp())", due))
    finally:
        await connection.close()
    if left <= 0:
        raise RuntimeError(f"arming took longer than {ARM_LEAD}: the host is too busy to measure")
    return left


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
        # Whether any row is left, with the statuses written out so the planner reads the (small)
        # partial due index: a count over the table took a fifth of a core from the workers.
        left = await connection.fetchval(
            "SELECT EXISTS (SELECT FROM notifications WHERE status IN ('pending', 'sending'))"
        )
    finally:
        await connection.close()
    return not left


async def run(url: str, processes: int, gateway_url: str, latency: float) -> Result:
    await reset(url)
    async with httpx.AsyncClient() as http:
        await http.post(f"{gateway_url}/reset", params={"latency": latency})
    env = worker_env(url, gateway_url)
    workers = list(await asyncio.gather(*(start_worker(env) for _ in range(processes))))
    try:
        idle = sum(cpu_seconds(worker.pid) for worker in workers)  # start-up is not the work
        await asyncio.sleep(await arm(url))
        start = HostSample.now()
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


@dataclass(frozen=True)
class Pair:
    """One and two workers draining the same backlog through a gateway answering after ``latency``."""

    latency: float
    one: Result
    two: Result

    @property
    def ratio(self) -> float:
        return (self.two.delivered / self.two.seconds) / (self.one.delivered / self.one.seconds)

    @property
    def ok(self) -> bool:
        return (
            min(self.one.per_process, self.two.per_process) >= GOAL_PER_PROCESS
            and self.ratio >= GOAL_RATIO
            and self.one.duplicates == self.two.duplicates == 0
            and self.one.delivered == self.two.delivered == REMINDERS
        )


async def pair(url: str, gateway_url: str, latency: float) -> Pair:
    print(f"gateway answering after {latency * 1000:.0f} ms:")
    one = await run(url, 1, gateway_url, latency)
    show(one)
    two = await run(url, 2, gateway_url, latency)
    show(two)
    result = Pair(latency, one, two)
    print(f"2 vs 1 process throughput: {result.ratio:.2f}× (goal ≥ {GOAL_RATIO})")
    return result


async def main(url: str) -> int:
    """The goals are judged with the provider's latency: a worker waits on its requests, which is
    why a second process adds throughput. The instant gateway shows how far this host's cores go
    when nothing is waited on: PostgreSQL and both workers then share its two cores."""
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
        provider = await pair(url, gateway_url, PROVIDER_LATENCY)
        instant = await pair(url, gateway_url, 0.0)
    finally:
        gateway.send_signal(signal.SIGTERM)
        await gateway.wait()
    print(
        f"SUMMARY reminder_fanout latency={provider.latency * 1000:.0f}ms "
        f"per_process_1={provider.one.per_process:.0f}/s per_process_2={provider.two.per_process:.0f}/s "
        f"ratio={provider.ratio:.2f} p99_lateness_1={provider.one.p99_lateness:.1f}s "
        f"p99_lateness_2={provider.two.p99_lateness:.1f}s "
        f"instant: per_process_1={instant.one.per_process:.0f}/s "
        f"per_process_2={instant.two.per_process:.0f}/s ratio={instant.ratio:.2f} "
        f"duplicates={sum(r.duplicates for r in (provider.one, provider.two, instant.one, instant.two))} "
        f"{'OK' if provider.ok else 'BELOW GOAL'}"
    )
    return 0 if provider.ok and instant.one.duplicates == instant.two.duplicates == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--gateway":
        run_gateway(int(sys.argv[2]))
    else:
        sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)))
