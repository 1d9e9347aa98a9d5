"""Running Alembic from code: the CLI, the tests and ``/readyz`` use these, never ``create_all``.

``fresh_database`` gives the tests and the benchmarks an empty, migrated PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from coordinator.db import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations, exactly (Alembic would also take a
    prefix); one it does not know is newer, or another application's."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return revision in {script.revision for script in scripts.walk_revisions()}


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    """The plain ``postgresql://`` address asyncpg takes for a SQLAlchemy URL (another database of
    the same server when ``database`` is given)."""
    target = make_url(url).set(drivername="postgresql")
    if database is not None:
        target = target.set(database=database)
    return target.render_as_string(hide_password=False)


async def ensure_postgres_database(url: str) -> None:
    """Create the database ``url`` names if the server lacks it (connecting to ``postgres``)."""
    import asyncpg  # only PostgreSQL callers need the driver

    name = make_url(url).database
    connection = await asyncpg.connect(asyncpg_dsn(url, "postgres"))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def empty_public_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))


async def fresh_database(url: str) -> None:
    """An empty PostgreSQL database at ``url``, created if missing, migrated to head."""
    await ensure_postgres_database(url)
    engine = create_engine(url)
    try:
        await empty_public_schema(engine)
        await upgrade(engine)
    finally:
        await engine.dispose()
