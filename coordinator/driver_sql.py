"""Prebuilt Core statements that the hottest requests run on the asyncpg connection itself.

SQLAlchemy's way to a statement (the greenlet hop, the execution context, the cursor adapter,
the result objects) costs about 65 µs of CPU on top of asyncpg's own 40 (measured on the
sign-up's first read). A sign-up runs three statements, and when an activity opens, the CPU each
sign-up costs the host is what limits how many it takes per second (README, Benchmarks).
``DriverStatement`` compiles a Core statement once for PostgreSQL and runs it on the session's
asyncpg connection:

- SQLAlchemy still owns the transaction: it begins it (lazily, with its first statement on the
  connection), commits and rolls back. Until it has begun one, and on SQLite, the statement goes
  through the session like any other; so the first statement of a request always does.
- Rows are read by column name: asyncpg ``Record``s, or SQLAlchemy ``RowMapping``s.
- Errors are SQLAlchemy's (``IntegrityError`` for a violated constraint, ``DBAPIError`` for the
  rest of the server's refusals), with the driver's error as ``orig``: callers handle one kind.
  A lost connection surfaces as the driver's error; the session's rollback then finds the
  connection gone and SQLAlchemy replaces it, as it does for its own statements.
- Parameters pass through the bind processors of their types (``UTCDateTime`` refuses naive
  times). Result columns must need none on asyncpg, which is checked once, when the statement is
  compiled: timestamps come back aware from asyncpg, JSON decoded by the codec SQLAlchemy
  installs on each connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from coordinator.db import UTCDateTime


class Row(Protocol):
    """A row read by column name: an asyncpg ``Record`` or a SQLAlchemy ``RowMapping``."""

    def __getitem__(self, key: str, /) -> Any: ...


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
# Types whose result processing is only a check asyncpg's own decoding already passes.
_DECODED_BY_ASYNCPG: tuple[type, ...] = (UTCDateTime,)


class DriverStatement:
    """A Core ``select`` (CTEs that write included) compiled once for asyncpg."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = compiled.string
        # Per position: the parameter's name, or (None, the statement's own literal, processed).
        self._plan: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if bind.required:
                self._plan.append((bind.key, None, processor))
            else:
                value = bind.effective_value
                self._plan.append((None, processor(value) if processor else value, None))
        for column in statement.selected_columns:
            if isinstance(column.type, _DECODED_BY_ASYNCPG):
                continue
            if column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None) is not None:
                raise TypeError(f"column {column.key!r} needs SQLAlchemy's result processing")

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional arguments: ``parameters`` and the statement's own literals."""
        return [
            literal if key is None else processor(parameters[key]) if processor else parameters[key]
            for key, literal, processor in self._plan
        ]

    async def fetch(self, session: AsyncSession, parameters: Mapping[str, Any]) -> list[Row]:
        """Every row, on the driver when SQLAlchemy has begun the transaction (else as usual)."""
        driver = await _driver_in_transaction(session)
        if driver is None:
            return list((await session.execute(self.statement, dict(parameters))).mappings())
        return await self.fetch_on(driver, self.arguments(parameters))

    async def fetch_on(self, driver: asyncpg.Connection, arguments: Sequence[Any]) -> list[Row]:
        """The rows from ``driver``, the server's refusals raised as SQLAlchemy's errors."""
        try:
            return cast(list[Row], await driver.fetch(self.sql, *arguments))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(self.sql, arguments, exc) from exc
        except asyncpg.PostgresError as exc:
            raise DBAPIError(self.sql, arguments, exc) from exc

    async def first(self, session: AsyncSession, parameters: Mapping[str, Any]) -> Row | None:
        rows = await self.fetch(session, parameters)
        return rows[0] if rows else None


# Per session transaction (which keeps one connection), its asyncpg connection once SQLAlchemy
# has begun the transaction there: finding it again costs 20 µs, a third of a statement.
_DRIVERS: WeakKeyDictionary[SessionTransaction, asyncpg.Connection] = WeakKeyDictionary()


async def _driver_in_transaction(session: AsyncSession) -> asyncpg.Connection | None:
    """The session's asyncpg connection once SQLAlchemy has begun its transaction on it."""
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        return None
    found = _DRIVERS.get(transaction)
    if found is not None:
        return found
    if session.get_bind().dialect.name != "postgresql":
        return None
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if not isinstance(driver, asyncpg.Connection) or not driver.is_in_transaction():
        return None
    _DRIVERS[transaction] = driver
    return driver
