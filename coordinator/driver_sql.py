"""Prebuilt Core statements that the hottest requests run on the asyncpg connection itself.

SQLAlchemy's way to a statement (the greenlet hop, the execution context, the cursor adapter,
the result objects) costs about 65 µs of CPU on top of asyncpg's own 40 (measured on the
sign-up's first read). A sign-up runs three statements, and when an activity opens, the CPU each
sign-up costs the host is what limits how many it takes per second (README, Benchmarks).
``DriverStatement`` compiles a Core statement once for PostgreSQL and runs it on the session's
asyncpg connection:

- SQLAlchemy still owns the transaction: it commits and rolls back. It begins it lazily, with
  the first statement sent through it; a ``DriverStatement`` that writes and comes first has the
  session's connection adapter begin it (``_begin_now``), the same ``BEGIN`` it would have sent,
  so the first statement of a request needs no trip through SQLAlchemy either. One that only
  reads (``begins=False``) runs inside the transaction if there is one, else on its own: a
  request that never writes through the session then sends no ``BEGIN`` and no ``COMMIT`` at all
  (``placing``'s procedure commits by itself). On SQLite the statement goes through the session
  like any other.
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
from sqlalchemy import Select, TextualSelect
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
    """A Core ``select`` (CTEs that write included), or a ``text(…).columns(…)``, compiled once
    for asyncpg. ``begins``: the session's transaction is begun first if it is not yet."""

    def __init__(self, statement: Select[*tuple[Any, ...]] | TextualSelect, *, begins: bool = True) -> None:
        self.statement = statement
        self.begins = begins
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
        """Every row, on the driver (on SQLite, through the session)."""
        on = await _driver(session)
        if on is None:
            return list((await session.execute(self.statement, dict(parameters))).mappings())
        driver, adapter = on
        if self.begins and not driver.is_in_transaction():
            await _begin_now(adapter)
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


# Per session transaction (which keeps one connection): its asyncpg connection and SQLAlchemy's
# adapter of it. Finding them again costs 20 µs, a third of a statement.
_DRIVERS: WeakKeyDictionary[SessionTransaction, tuple[asyncpg.Connection, Any]] = WeakKeyDictionary()


async def in_transaction(session: AsyncSession) -> bool:
    """Whether the session's connection has a transaction open (SQLite: always, ``BEGIN
    IMMEDIATE`` comes with its first statement)."""
    on = await _driver(session)
    return on is None or on[0].is_in_transaction()


async def _driver(session: AsyncSession) -> tuple[asyncpg.Connection, Any] | None:
    """The session's asyncpg connection and its adapter; None on SQLite."""
    transaction = session.sync_session.get_transaction()
    found = _DRIVERS.get(transaction) if transaction is not None else None
    if found is not None:
        return found
    if session.get_bind().dialect.name != "postgresql":
        return None
    connection = await session.connection()  # the session's transaction takes a connection
    pooled = await connection.get_raw_connection()
    driver = pooled.driver_connection
    if not isinstance(driver, asyncpg.Connection):
        raise TypeError(f"not an asyncpg connection: {driver!r}")
    found = (driver, pooled.dbapi_connection)
    taken = session.sync_session.get_transaction()
    if taken is not None:  # always: ``session.connection()`` began one
        _DRIVERS[taken] = found
    return found


async def _begin_now(adapter: Any) -> None:
    """Have SQLAlchemy's asyncpg adapter send its ``BEGIN`` now rather than with its first
    statement (it has no public call for that): it then commits or rolls back this transaction
    with the session's, exactly as if it had begun it itself. ``test_driver_sql`` fails if a
    version of SQLAlchemy changes this."""
    await adapter._start_transaction()
