"""Three worker processes drain 5,000 due reminders through a counting SMS gateway; one worker
is killed with SIGKILL while its batch is at the gateway. Every reminder reaches the gateway
exactly once; the killed worker's batch is left ``unknown`` (never resent: the gateway may have
it) and is settled by the provider's delivery receipts. Nothing is lost."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from coordinator.app import create_app
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.notify.models import Notification, NotificationStatus
from coordinator.notify.rendering import render
from coordinator.people.models import Person
from coordinator.settings import Settings
from tests.conftest import RECEIPT_TOKEN, TEST_SECRET
from tests.factories import create_station
from tests.notify.fake_server import serve
from tests.pg.gateway import CountingGateway, Message, identity
from tests.pg.processes import environment, processes, wait_for

REMINDERS = 5_000
PEOPLE = 1_000
WORKERS = 3
BATCH = 25  # small: on a busy host a held batch must reach the gateway before reads time out (10 s)
# A tick with a backlog claims in two lanes; all they claim is sent at once (no claimed row
# waits for a free slot).
CONCURRENCY = 2 * BATCH
# Above the HTTP read timeout (10 s) and the longest hold at the gate: only a dead worker's claims
# outlive their lease.
LEASE_SECONDS = 12
Status = NotificationStatus


async def seed(url: str) -> None:
    """1,000 people with five reminders each, all due now."""
    clock = SystemClock()
    now = clock.now()
    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            station = await create_station(session, clock)
            await session.execute(
                insert(Person),
                [
                    {
                        "station_id": station.id,
                        "name": f"志愿者{i}",
                        "phone": f"+86139{i:08d}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(PEOPLE)
                ],
            )
            people = (await session.execute(select(Person.id, Person.phone).order_by(Person.id))).all()
            context = {"name": "志愿者", "time": "12月6日（周日）10:00", "place": "村委会"}
            rows: list[dict[str, Any]] = []
            for n in range(REMINDERS):
                person_id, phone = people[n % PEOPLE]
                key = f"reminder:e0:p{person_id}:n{n}"
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
                        "due_at": now - timedelta(seconds=1),
                        "deadline": now + timedelta(days=1),
                        "attempts": 0,
                        "next_attempt_at": now - timedelta(seconds=1),
                        # A title of its own: the gateway tells messages apart by what they say.
                        "payload": render(
                            "reminder",
                            "sms",
                            phone,
                            {**context, "title": f"重阳节探访{n}", "phone": "0855-8888888"},
                        ),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            await session.execute(insert(Notification), rows)
    finally:
        await engine.dispose()


class ClaimsAtTheGateway:
    """True once every ``sending`` row has reached the gateway (held there, or answered while
    the rest of its batch is held) and that set has not changed for a second: every worker is
    blocked on the gateway, none is between a claim and its requests."""

    def __init__(self, gateway: CountingGateway, sending: Callable[[], Awaitable[set[Message]]]) -> None:
        self.gateway, self.sending = gateway, sending
        self.seen: set[Message] | None = None
        self.since = 0.0

    async def __call__(self) -> bool:
        claimed, now = await self.sending(), time.monotonic()
        if claimed != self.seen:
            self.seen, self.since = claimed, now
            return False
        at_gateway = all(message in self.gateway.counts for message in claimed)
        return bool(claimed) and at_gateway and now - self.since >= 1.0


async def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(pg_url: str, tmp_path: Path) -> None:
    await seed(pg_url)
    gateway = CountingGateway()
    engine = create_engine(pg_url)
    maker = create_sessionmaker(engine)

    async def count(*statuses: Status) -> int:
        async with maker() as session:
            stmt = select(func.count()).select_from(Notification).where(Notification.status.in_(statuses))
            return int(await session.scalar(stmt) or 0)

    async def sending_messages() -> set[Message]:
        async with maker() as session:
            stmt = select(Notification).where(Notification.status == Status.sending)
            return {identity(row) for row in await session.scalars(stmt)}

    try:
        async with serve(gateway) as gateway_url:
            env = environment(
                pg_url,
                gateway_url,
                notify_batch_size=str(BATCH),
                notify_send_concurrency=str(CONCURRENCY),
                notify_lease_seconds=str(LEASE_SECONDS),
                notify_daily_cap="1000",
            )
            with processes(tmp_path, env) as group:
                workers = [group.worker(f"worker{i}") for i in range(WORKERS)]

                async def a_tenth_arrived() -> bool:
                    return gateway.total >= REMINDERS // 10

                await wait_for(a_tenth_arrived, within=40)
                # Hold the answers until every worker waits on the gateway with all it claimed
                # (nothing claimed anywhere else, unchanged for a second: no worker between
                # ticks): then the kill leaves exactly the victim's in-flight batches unknown.
                gateway.close_gate()
                await wait_for(ClaimsAtTheGateway(gateway, sending_messages), within=8)
                victim = workers[0]
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=10)
                gateway.open_gate()

                async def drained() -> bool:
                    return await count(Status.pending, Status.sending) == 0

                try:
                    await wait_for(drained, within=90, interval=0.25)
                except TimeoutError:
                    raise AssertionError(group.output("worker1")) from None
                unknown = await count(Status.unknown)
                await asyncio.sleep(1.0)  # more ticks of the survivors: still nothing resent

        async with maker() as session:
            left = list(
                await session.scalars(select(Notification).where(Notification.status == Status.unknown))
            )
        # The gateway's delivery receipts, as Aliyun pushes them, through the receipt route.
        app = create_app(
            Settings(
                database_url=pg_url,
                secret_key=TEST_SECRET,
                scheduler_enabled=False,
                notify_receipt_token=RECEIPT_TOKEN,
            )
        )
        receipts = [
            {
                "phone_number": identity(row)[0],
                "send_time": "2026-11-29 10:00:00",
                "report_time": "2026-11-29 10:00:05",
                "success": True,
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "biz_id": gateway.accepted[identity(row)].biz_id,
                "out_id": gateway.accepted[identity(row)].out_id,
            }
            for row in left
        ]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            url = f"/api/v1/notify/receipts/aliyun?token={RECEIPT_TOKEN}"
            answer = await http.post(url, json=receipts)
            repeat = await http.post(url, json=receipts)  # Aliyun retries
        await app.state.engine.dispose()

        async with maker() as session:
            final = dict(
                (
                    await session.execute(
                        select(Notification.status, func.count()).group_by(Notification.status)
                    )
                ).all()
            )
            messages = [identity(row) for row in await session.scalars(select(Notification))]
            settled = list(
                await session.scalars(
                    select(Notification.status).where(Notification.id.in_([r.id for r in left]))
                )
            )
    finally:
        await engine.dispose()

    assert gateway.rejected == 0
    assert gateway.duplicates() == {}, "a reminder reached the gateway twice"
    assert sorted(gateway.counts) == sorted(messages), "a reminder never reached the gateway"
    assert gateway.requests < REMINDERS // 2, "the reminders should have gone in batches"
    # What the victim had claimed is left unknown (never resent), and all of it had reached the
    # gateway once: the receipts settle it.
    assert 0 < unknown == len(left) <= 2 * BATCH
    assert all(gateway.counts[identity(row)] == 1 for row in left)
    assert answer.status_code == repeat.status_code == 200
    assert answer.json()["code"] == 0
    assert set(settled) == {Status.delivered}
    assert final == {Status.sent: REMINDERS - unknown, Status.delivered: unknown}
