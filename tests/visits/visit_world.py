"""Shortcuts of the home-visit tests: a ledger with a known visit history, a social worker's login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from coordinator.auth.models import Role
from coordinator.db import transaction
from coordinator.people.models import Person, Resident
from coordinator.visits.models import VisitOutcome, VisitRecord
from tests.factories import auth_headers, create_user
from tests.world import Headers, World


@dataclass
class Ledger:
    overdue: Resident  # 特困 (30 days), joined 60 days ago, never visited
    due_soon: Resident  # 空巢老人 (14 days), visited 10 days ago
    not_due: Resident  # 低保 (90 days), visited 10 days ago
    foreign: Resident  # of the other station, never visited


async def visit(world: World, resident: Resident, days_ago: int, outcome: str = "visited") -> None:
    async with transaction(world.sessionmaker) as session:
        at = world.clock.now() - timedelta(days=days_ago)
        session.add(
            VisitRecord(
                station_id=resident.station_id,
                resident_id=resident.id,
                visited_at=at,
                outcome=VisitOutcome(outcome),
                conditions={},
                needs=[],
                created_at=at,
            )
        )


async def ledger(world: World) -> Ledger:
    joined = world.clock.now() - timedelta(days=60)
    overdue = await world.resident(
        categories=["extreme_poverty"],
        address="营盘村三组12号",
        created_at=joined,
        phone="+8613800001111",
        language="miao",
    )
    due_soon = await world.resident(
        categories=["empty_nest_elderly"], address="营盘村三组3号", created_at=joined
    )
    not_due = await world.resident(categories=["low_income"], address="高坡村一组", created_at=joined)
    foreign = await world.resident(station=world.other, categories=["extreme_poverty"], created_at=joined)
    await visit(world, due_soon, 10)
    await visit(world, not_due, 10)
    return Ledger(overdue, due_soon, not_due, foreign)


async def social_worker(world: World) -> tuple[Person, Headers]:
    """A social worker of the world's station and their organizer login."""
    person = await world.person(is_social_worker=True)
    async with transaction(world.sessionmaker) as session:
        user = await create_user(session, world.clock, Role.organizer, [world.station], person_id=person.id)
    return person, auth_headers(world.app, user)
