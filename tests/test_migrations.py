"""The schema is only ever made by the migrations: they must match the models, and undo cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from coordinator.clock import FixedClock
from coordinator.db import create_engine, create_sessionmaker, transaction
from coordinator.events.models import EventRole, SignupStatus
from coordinator.migrate import (
    alembic_config,
    current_revision,
    empty_public_schema,
    ensure_postgres_database,
    head_revision,
    upgrade,
)
from coordinator.models import Base
from tests.conftest import BACKENDS, PG_URL, START
from tests.factories import create_event, create_person, create_signup, create_station


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()

    assert differences == [], "models and migrations differ: regenerate the migration (see README)"


@pytest.fixture(params=BACKENDS)
async def scratch_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An empty database of our own: downgrading the shared test database would break other tests."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}")
    else:
        assert PG_URL is not None
        url = make_url(PG_URL)
        scratch = url.set(database=f"{url.database}_migrations").render_as_string(hide_password=False)
        await ensure_postgres_database(scratch)
        engine = create_engine(scratch)
        await empty_public_schema(engine)
    yield engine
    await engine.dispose()


async def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade(scratch_engine)
    async with scratch_engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
    async with scratch_engine.connect() as connection:
        assert await connection.run_sync(_tables) == {"alembic_version"}
    assert await current_revision(scratch_engine) is None

    await upgrade(scratch_engine)

    assert await current_revision(scratch_engine) == head_revision()
    async with scratch_engine.connect() as connection:
        assert await connection.run_sync(_tables) == set(Base.metadata.tables) | {"alembic_version"}


def test_migrations_have_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


async def test_upgrading_past_0003_counts_each_role_s_unanswered_invitations(
    scratch_engine: AsyncEngine,
) -> None:
    """A database whose roles were filled before the count existed gets it from the sign-ups."""
    await upgrade(scratch_engine)
    clock = FixedClock(START)
    async with transaction(create_sessionmaker(scratch_engine)) as session:
        station = await create_station(session, clock)
        event = await create_event(session, clock, station, roles=[{"name": "志愿者", "count": 5}])
        for status in (SignupStatus.invited, SignupStatus.invited, SignupStatus.confirmed):
            await create_signup(
                session, clock, event, await create_person(session, clock, station), status=status
            )
        role_id = event.roles[0].id
    async with scratch_engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0002"))
    await upgrade(scratch_engine)
    async with scratch_engine.connect() as connection:
        counts = (
            await connection.execute(
                select(EventRole.invited_count, EventRole.confirmed_count).where(EventRole.id == role_id)
            )
        ).one()
    assert tuple(counts) == (2, 1)
