"""Reading back what the tests stored (row counts, domain events in the outbox) and what they sent
(the SQL statements of a block)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.bus.models import OutboxEvent
from coordinator.driver_sql import DriverStatement, Row


async def count_rows(sessionmaker: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def domain_events(sessionmaker: async_sessionmaker[AsyncSession], event_type: str) -> list[OutboxEvent]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
        )
        return list(rows)


@contextmanager
def statements_of(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs, whitespace folded; BEGIN is left out
    (SQLite's ``BEGIN IMMEDIATE`` goes through the cursor, PostgreSQL's does not). Those run on
    the driver (``DriverStatement``) pass no cursor: they are recorded where they are sent."""
    seen: list[str] = []
    engine = app.state.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(" ".join(statement.split()))

    fetch_on = DriverStatement.fetch_on

    async def record_driver_statement(
        statement: DriverStatement, driver: asyncpg.Connection, arguments: Sequence[Any]
    ) -> list[Row]:
        record(None, None, statement.sql)
        return await fetch_on(statement, driver, arguments)

    event.listen(engine, "before_cursor_execute", record)
    DriverStatement.fetch_on = record_driver_statement  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        DriverStatement.fetch_on = fetch_on  # type: ignore[method-assign]


def verbs(statements: list[str]) -> list[str]:
    """``INSERT INTO attendance`` / ``SELECT … FROM users`` → a short readable list for asserts."""
    short = []
    for statement in statements:
        words = statement.split()
        if words[0].upper() == "INSERT":
            short.append(f"INSERT {words[2]}")
        elif words[0].upper() == "UPDATE":
            short.append(f"UPDATE {words[1]}")
        else:
            short.append(words[0])
    return short
