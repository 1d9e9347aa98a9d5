"""``DriverStatement``: the same rows and errors on the asyncpg connection as through the session;
a write always inside the session's transaction (begun for it if need be), a read outside one if
none is open; never a column that needs SQLAlchemy's result processing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Enum, bindparam, cast, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.driver_sql import DriverStatement, Row, in_transaction
from coordinator.events.models import Event, EventRole, Signup, SignupStatus
from tests.api.signup_world import World, make_world
from tests.factories import create_signup
from tests.stored import count_rows, statements_of

# Every kind of value a hot statement passes or reads: a timestamp parameter (bind processing),
# the statement's own literal, JSON lists, an aware timestamp and a label.
_ROLES_STARTING_AFTER = DriverStatement(
    select(
        EventRole.id,
        EventRole.skills,
        EventRole.languages,
        Event.starts_at,
        (EventRole.count - EventRole.confirmed_count).label("free"),
        literal("固定").label("constant"),
    )
    .join(Event, Event.id == EventRole.event_id)
    .where(Event.starts_at > bindparam("after", type_=Event.starts_at.type), Event.title != "—")
    .order_by(EventRole.id)
)


_COLUMNS = ("id", "skills", "languages", "starts_at", "free", "constant")


def _plain(rows: list[Row]) -> list[dict[str, Any]]:
    return [{key: row[key] for key in _COLUMNS} for row in rows]


@pytest.fixture
async def world(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock) -> World:
    return await make_world(app, sessionmaker, clock)


def _is_postgres(app: FastAPI) -> bool:
    return bool(app.state.engine.dialect.name == "postgresql")


def _skip_unless_postgres(app: FastAPI) -> None:
    if not _is_postgres(app):
        pytest.skip("writing CTEs are PostgreSQL's: on SQLite the hot paths write one by one")


async def test_rows_are_those_the_session_reads(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    await world.event(roles=[{"name": "翻译", "count": 3, "skills": ["first_aid"], "languages": ["hmn"]}])
    await world.event(roles=[{"name": "志愿者", "count": 2}])
    parameters = {"after": clock.now()}
    async with sessionmaker() as session, session.begin():
        read = await session.execute(_ROLES_STARTING_AFTER.statement, parameters)
        through_session = _plain(list(read.mappings()))
        with statements_of(app) as sent:
            on_driver = _plain(await _ROLES_STARTING_AFTER.fetch(session, parameters))
    assert on_driver == through_session
    assert [row["skills"] for row in on_driver] == [["first_aid"], []]
    assert all(
        isinstance(row["starts_at"], datetime) and row["starts_at"].utcoffset() == timedelta(0)
        for row in on_driver
    )
    assert (sent == [" ".join(_ROLES_STARTING_AFTER.sql.split())]) is _is_postgres(app)


@pytest.mark.parametrize("before", ["nothing", "a-read", "a-read-on-the-driver"])
async def test_its_writes_are_the_session_s_and_roll_back_with_it(
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    world: World,
    before: str,
) -> None:
    """SQLAlchemy begins its transaction lazily, with its first statement on the connection: a
    statement sent on the driver before that would have committed on its own. A read on the
    driver (``begins=False``) begins nothing."""
    _skip_unless_postgres(app)
    event = await world.event()
    person = await world.person()
    async with sessionmaker() as session, session.begin():
        merged = await session.merge(event, load=True)
        ended = await create_signup(session, clock, merged, person, status=SignupStatus.cancelled)
    count = await count_rows(sessionmaker, Signup)

    with pytest.raises(_Undo):
        await _copy_then_undo(sessionmaker, clock, ended.id, before=before)
    assert await count_rows(sessionmaker, Signup) == count


async def test_a_naive_timestamp_is_refused_on_the_driver_too(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    await world.event()
    async with sessionmaker() as session, session.begin():
        await _ROLES_STARTING_AFTER.fetch(session, {"after": clock.now()})  # the transaction begun
        with pytest.raises(Exception, match="naive datetime"):
            await _ROLES_STARTING_AFTER.fetch(session, {"after": clock.now().replace(tzinfo=None)})


class _Undo(Exception):
    pass


async def _copy_then_undo(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, signup_id: int, *, before: str
) -> None:
    async with sessionmaker() as session, session.begin():
        if before == "a-read":
            await session.execute(select(func.count()).select_from(Signup))
        elif before == "a-read-on-the-driver":
            await _READ_ON_ITS_OWN.fetch(session, {"after": clock.now()})
            assert not await in_transaction(session)  # no BEGIN was sent for it
        copied = await _COPY_SIGNUP.fetch(session, {"signup_id": signup_id})
        assert len(copied) == 1
        assert await in_transaction(session)
        raise _Undo


_READ_ON_ITS_OWN = DriverStatement(_ROLES_STARTING_AFTER.statement, begins=False)
_COPY_SIGNUP = DriverStatement(
    select(
        insert(Signup)
        .from_select(
            ["event_id", "role_id", "person_id", "status", "source", "created_at", "updated_at"],
            select(
                Signup.event_id,
                Signup.role_id,
                Signup.person_id,
                Signup.status,
                Signup.source,
                Signup.created_at,
                Signup.updated_at,
            ).where(Signup.id == bindparam("signup_id")),
        )
        .returning(Signup.id)
        .cte("copied")
        .c.id
    )
)


async def test_a_violated_constraint_is_sqlalchemy_s_integrity_error(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    _skip_unless_postgres(app)
    event = await world.event()
    person = await world.person()
    async with sessionmaker() as session, session.begin():
        signup = await create_signup(session, clock, await session.merge(event, load=True), person)
    async with sessionmaker() as session, session.begin():
        await session.execute(select(func.count()).select_from(Signup))  # begins the transaction
        with pytest.raises(IntegrityError) as refused:
            await _COPY_SIGNUP.fetch(session, {"signup_id": signup.id})
    assert "uq_signups_live_person" in str(refused.value.orig)


def test_a_column_that_needs_result_processing_is_refused_when_compiled() -> None:
    with pytest.raises(TypeError, match="result processing"):
        DriverStatement(select(cast(literal("confirmed"), Enum(SignupStatus)).label("status")))
