"""The split deployment as real processes: two ``serve --no-scheduler`` on two ports and one
``worker`` against one PostgreSQL. Sign-ups go through both ports; the reminders they plan reach
the SMS gateway exactly once each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from coordinator.auth.models import Role
from coordinator.auth.service import issue_access_token
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.notify.models import Notification, NotificationStatus
from coordinator.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import create_event, create_person, create_station, create_user
from tests.notify.fake_server import serve
from tests.pg.gateway import CountingGateway, identity
from tests.pg.processes import environment, processes, wait_for, wait_ready

VOLUNTEERS = 10
# The reminder falls due this long after the sign-ups begin: every sign-up is in by then.
LEAD = timedelta(seconds=10)


async def test_two_api_processes_and_a_worker_send_each_reminder_once(pg_url: str, tmp_path: Path) -> None:
    gateway = CountingGateway()
    engine = create_engine(pg_url)
    maker = create_sessionmaker(engine)
    try:
        async with serve(gateway) as gateway_url:
            with processes(tmp_path, environment(pg_url, gateway_url)) as group:
                ports = [group.api("api1"), group.api("api2")]
                group.worker("worker")
                await asyncio.gather(*(wait_ready(url) for url in ports))

                clock = SystemClock()
                async with transaction(maker) as session:
                    station = await create_station(session, clock)
                    staff = await create_user(session, clock, Role.organizer, [station])
                    # No quiet hours: the reminder must go when it falls due, whatever the hour.
                    people = [
                        await create_person(
                            session, clock, station, quiet_hours_start="00:00", quiet_hours_end="00:00"
                        )
                        for _ in range(VOLUNTEERS)
                    ]
                    event = await create_event(
                        session,
                        clock,
                        station,
                        roles=[{"name": "志愿者", "count": VOLUNTEERS}],
                        starts_in=timedelta(hours=1) + LEAD,
                        reminder_offsets=["PT1H"],
                    )
                settings = Settings(database_url=pg_url, secret_key=TEST_SECRET)
                token = issue_access_token(settings=settings, clock=clock, user=staff)
                headers = {"Authorization": f"Bearer {token}"}

                answered: dict[str, int] = {url: 0 for url in ports}
                async with httpx.AsyncClient(timeout=10.0, headers=headers) as http:
                    for i, person in enumerate(people):
                        base = ports[i % 2]
                        response = await http.post(
                            f"{base}/api/v1/events/{event.id}/signups", json={"person_id": person.id}
                        )
                        assert response.status_code == 201, response.text
                        assert response.json()["status"] == "confirmed"
                        answered[base] += 1
                assert datetime.now(UTC) < event.starts_at - timedelta(hours=1), "sign-ups took too long"

                async def all_arrived() -> bool:
                    return gateway.total >= VOLUNTEERS

                try:
                    await wait_for(all_arrived, within=30)
                except TimeoutError:
                    raise AssertionError(group.output("worker") + group.output("api1")) from None
                await asyncio.sleep(1.5)  # several more dispatcher ticks: nothing may go twice

        async with maker() as session:
            rows = list(await session.scalars(select(Notification).order_by(Notification.id)))
    finally:
        await engine.dispose()

    assert answered == {ports[0]: VOLUNTEERS // 2, ports[1]: VOLUNTEERS // 2}
    assert gateway.rejected == 0
    assert [r.reason for r in rows] == ["reminder"] * VOLUNTEERS
    assert {r.person_id for r in rows} == {p.id for p in people}
    assert gateway.duplicates() == {}
    assert sorted(gateway.counts) == sorted(identity(r) for r in rows)
    assert {r.status for r in rows} == {NotificationStatus.sent}
    assert all(r.provider_message_id == gateway.accepted[identity(r)].biz_id for r in rows)
