"""The demo's home visits: policies, a due list with some overdue, two planned weeks, visit records
with needs and follow-ups, and three open cases per station."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from coordinator.auth.models import Role
from coordinator.cases.models import Case, CaseStatus
from coordinator.db import transaction
from coordinator.demo.loader import load_demo
from coordinator.events.models import Event, Signup, SignupStatus
from coordinator.stations.models import Station
from coordinator.visits.models import FollowUp, VisitPolicy, VisitRecord, VisitStop
from tests.factories import auth_headers, create_user
from tests.world import World


async def test_demo_plans_two_weeks_of_rounds_from_a_due_list_with_overdue_residents(
    client: httpx.AsyncClient, world: World
) -> None:
    async with transaction(world.sessionmaker) as session:
        await load_demo(session, world.clock, seed=7)
    async with world.sessionmaker() as session:
        station = await session.scalar(select(Station).where(Station.code == "kl-yingpanpo"))
        assert station is not None
        assert await session.scalar(select(func.count()).where(VisitPolicy.station_id == station.id)) == 7
        found = await session.scalars(select(VisitRecord.needs).where(VisitRecord.station_id == station.id))
        assert sum(1 for needs in found if needs) >= 20
        assert (
            await session.scalar(select(func.count()).where(FollowUp.station_id == station.id)) or 0
        ) >= 10
        open_cases = select(func.count()).where(Case.station_id == station.id, Case.status == CaseStatus.open)
        assert await session.scalar(open_cases) == 3
        rounds = list(
            await session.scalars(
                select(Event).where(Event.station_id == station.id, Event.id.in_(select(VisitStop.event_id)))
            )
        )
        confirmed = await session.scalar(
            select(func.count()).where(
                Signup.event_id.in_([e.id for e in rounds]), Signup.status == SignupStatus.confirmed
            )
        )
        user = await create_user(session, world.clock, Role.station_head, [station])
        await session.commit()
    zone = ZoneInfo(station.timezone)
    days = {e.starts_at.astimezone(zone).date() for e in rounds}
    today = world.clock.now().astimezone(zone).date()
    assert len(days) == 10
    assert max(days) - today <= timedelta(days=15)
    assert (confirmed or 0) >= len(rounds)  # at least a lead or a companion on each round
    due = await client.get(
        f"/api/v1/visits/due?station_id={station.id}&overdue_only=true", headers=auth_headers(world.app, user)
    )
    assert due.status_code == 200, due.text
    assert 10 <= due.json()["total"] < 200
