"""A sign-up sends a fixed, small number of statements: they are counted, so a change that loads
the event, the role or the person on its own again (or adds a round trip under the role's lock)
fails here. On PostgreSQL two reads take no lock, and one call of the procedure ``place_signup``
takes the locks and writes the sign-up, the role's counts and the outbox row
(``events.placing``). SQLite, which has no procedures, locks and writes one by one."""

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
    return signup.status, statements


def _is_postgres(app: FastAPI) -> bool:
    return bool(app.state.engine.dialect.name == "postgresql")


async def test_a_sign_up_reads_without_locks_then_locks_and_writes_in_one_call(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    signup_event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    first, second = await world.people(2)
    # SQLite: event with station, roles and person; the person's commitments. Neither locks anything.
    reads = ["SELECT", "SELECT"]
    status, statements = await _sign_up(app, sessionmaker, clock, signup_event.id, first.id)
    assert status == SignupStatus.confirmed
    if _is_postgres(app):
        # Event with station, roles and person; the role, the person, their commitments and the
        # rules' string (neither locks anything); then the procedure: locks, checks, writes.
        assert verbs(statements) == ["SELECT", "SELECT", "CALL"]
        assert _locks_nothing(statements[:2])
        assert "signup_rules_seen(" in statements[1]
        assert statements[2].startswith("CALL place_signup(")
    else:
        # Role (lock, arrival number), person, the role's invitations (a place is free), writes.
        locks = ["UPDATE event_roles", "SELECT", "SELECT"]
        assert verbs(statements) == [
            *reads,
            *locks,
            "INSERT signups",
            "UPDATE event_roles",
            "INSERT outbox_events",
        ]
    status, statements = await _sign_up(app, sessionmaker, clock, signup_event.id, second.id)
    assert status == SignupStatus.waitlisted
    if _is_postgres(app):
        assert verbs(statements) == ["SELECT", "SELECT", "CALL"]  # the call also answers the position
    else:
        locks = ["UPDATE event_roles", "SELECT"]  # full: no need to count the invitations
        writes = ["INSERT signups", "UPDATE event_roles", "INSERT outbox_events"]  # the waiting count
        assert verbs(statements) == [*reads, *locks, *writes]  # the position is the count, read at 1


def _locks_nothing(statements: list[str]) -> bool:
    return not any("FOR UPDATE" in s or "UPDATE " in s or "INSERT " in s for s in statements)


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
