"""The rules' string of PostgreSQL's sign-up procedure (``signup_rules_seen``, migration 0002):
the procedure writes only if it is the same under the locks as when the rules were checked
(``events.placing``), so it must change with everything those rules read, and cover exactly the
commitments they are given."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Executable, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.events.models import Event, EventRole, Signup, SignupStatus
from coordinator.events.signup_rules import commitment_parameters, person_commitments
from coordinator.people.models import Person, PersonTerm
from tests.api.signup_world import World, make_world
from tests.factories import create_signup


@pytest.fixture
async def world(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> World:
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("the procedure is PostgreSQL's: SQLite locks and writes one statement at a time")
    return await make_world(app, sessionmaker, clock)


def _parameters(world: World, event: Event, person: Person) -> dict[str, object]:
    return commitment_parameters(person.id, event, world.station.timezone)


async def _seen(world: World, event: Event, person: Person) -> str:
    p = _parameters(world, event, person)
    seen = func.signup_rules_seen(event.roles[0].id, person.id, event.id, p["window_start"], p["window_end"])
    async with world.sessionmaker() as session:
        found = await session.scalar(select(seen))
    assert isinstance(found, str)
    return found


async def _change(world: World, statement: Executable) -> None:
    async with world.sessionmaker() as session, session.begin():
        await session.execute(statement)


async def _sign_up(world: World, other: Event, person: Person, status: SignupStatus) -> Signup:
    async with world.sessionmaker() as session, session.begin():
        merged = await session.merge(other, load=True)
        return await create_signup(session, world.clock, merged, person, status=status)


async def test_the_string_changes_with_whatever_the_rules_read(world: World) -> None:
    event = await world.event()
    person = await world.person()
    role: Table = EventRole.__table__  # type: ignore[assignment]  # mapped to a Table
    people: Table = Person.__table__  # type: ignore[assignment]
    terms: Table = PersonTerm.__table__  # type: ignore[assignment]
    changes = [
        update(role).where(role.c.id == event.roles[0].id).values(skills=["first_aid"]),
        update(role).where(role.c.id == event.roles[0].id).values(languages=["hmn"]),
        update(role).where(role.c.id == event.roles[0].id).values(party_members_only=True),
        update(people).where(people.c.id == person.id).values(is_active=False),
        update(people).where(people.c.id == person.id).values(is_party_member=True),
        update(people).where(people.c.id == person.id).values(max_events_per_month=3),
        update(people).where(people.c.id == person.id).values(station_id=world.other.id),
        terms.insert().values(person_id=person.id, kind="skill", code="first_aid"),
    ]
    seen = [await _seen(world, event, person)]
    for change in changes:
        await _change(world, change)
        seen.append(await _seen(world, event, person))
    same_month = await world.event(starts_in=timedelta(days=8))
    await _sign_up(world, same_month, person, SignupStatus.confirmed)
    seen.append(await _seen(world, event, person))
    assert len(set(seen)) == len(seen)

    # What the rules do not read leaves it as it was.
    await _change(world, update(people).where(people.c.id == person.id).values(name="改名"))
    far_away = await world.event(starts_in=timedelta(days=120))
    await _sign_up(world, far_away, person, SignupStatus.confirmed)
    assert await _seen(world, event, person) == seen[-1]


async def test_its_commitments_are_those_the_rules_are_given(world: World) -> None:
    event = await world.event()
    person = await world.person()
    for days, status in [
        (8, SignupStatus.confirmed),  # the same month: counts, may clash
        (9, SignupStatus.waitlisted),  # waiting elsewhere: neither
        (10, SignupStatus.cancelled),
        (120, SignupStatus.confirmed),  # another month
    ]:
        await _sign_up(world, await world.event(starts_in=timedelta(days=days)), person, status)
    await _sign_up(world, event, person, SignupStatus.waitlisted)  # live for this event: a duplicate
    async with world.sessionmaker() as session:
        given = await person_commitments(session, _parameters(world, event, person))
        listed = (await _seen(world, event, person)).split("|")[3]
        signup_ids = [int(row.split(":")[0]) for row in listed.split(",")]
        in_string = await session.scalars(
            select(Signup.event_id).where(Signup.id.in_(signup_ids)).order_by(Signup.event_id)
        )
        assert list(in_string) == sorted(c.event_id for c in given)
        assert len(given) == 2
