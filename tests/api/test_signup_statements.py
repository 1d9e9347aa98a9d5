"""A sign-up sends a fixed, small number of statements: they are counted, so a change that loads
the event, the role or the person on its own again (or adds an ORM round trip under the role's
lock) fails here. PostgreSQL writes the sign-up, the role's count and the outbox row in one
statement; SQLite, which has no data-modifying CTEs, in one each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.errors import CoordinatorError
from coordinator.events.models import SignupSource, SignupStatus
from coordinator.events.signups import sign_up
from tests.api.signup_world import World, make_world
from tests.stored import statements_of, verbs


@pytest.fixture
async def world(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> World:
    return await make_world(app, sessionmaker, clock)


async def _sign_up(
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    event_id: int,
    person_id: int,
) -> tuple[SignupStatus, list[str]]:
    with statements_of(app) as statements:
        async with sessionmaker() as session, session.begin():
            signup = await sign_up(
                session, clock, event_id=event_id, person_id=person_id, role_id=None, source=SignupSource.self
            )
    return signup.status, verbs(statements)


def _is_postgres(app: FastAPI) -> bool:
    return bool(app.state.engine.dialect.name == "postgresql")


async def test_a_sign_up_is_four_reads_and_locks_then_its_writes(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    signup_event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    first, second = await world.people(2)
    # Event with station and roles; role lock + arrival number; person lock; commitments with the
    # role's invitations (under both locks).
    reads = ["SELECT", "UPDATE event_roles", "SELECT", "SELECT"]
    status, statements = await _sign_up(app, sessionmaker, clock, signup_event.id, first.id)
    assert status == SignupStatus.confirmed
    if _is_postgres(app):
        assert statements == [*reads, "WITH"]  # sign-up, role count and outbox row together
    else:
        assert statements == [*reads, "INSERT signups", "UPDATE event_roles", "INSERT outbox_events"]
    status, statements = await _sign_up(app, sessionmaker, clock, signup_event.id, second.id)
    assert status == SignupStatus.waitlisted
    if _is_postgres(app):
        assert statements == [*reads, "WITH"]
    else:
        assert statements == [*reads, "INSERT signups", "INSERT outbox_events"]


async def test_the_count_does_not_grow_with_the_person_s_other_commitments(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    person = await world.person()
    counts = []
    for days in (7, 8, 9, 10):  # each sign-up has one more confirmed event of the month to check
        later = await world.event(starts_in=timedelta(days=days))
        status, statements = await _sign_up(app, sessionmaker, clock, later.id, person.id)
        assert status == SignupStatus.confirmed
        counts.append(len(statements))
    assert len(set(counts)) == 1


async def test_a_refused_sign_up_stops_before_writing(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    signup_event = await world.event(roles=[{"name": "志愿者", "count": 2}])
    person = await world.person()
    await _sign_up(app, sessionmaker, clock, signup_event.id, person.id)
    with pytest.raises(CoordinatorError) as refused:
        await _sign_up(app, sessionmaker, clock, signup_event.id, person.id)
    assert refused.value.code == "already_signed_up"
