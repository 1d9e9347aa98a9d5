"""Engine, sessions and the declarative base shared by every domain package.

- Timestamps are stored as UTC (``UTCDateTime``) and always come back timezone-aware.
- SQLite runs in WAL mode with foreign keys on, and every transaction starts with
  ``BEGIN IMMEDIATE``: writers are serialized, which does there what row locks do on PostgreSQL
  (docs/concurrency.md, "Ground rules").
- Work to do after a commit (kicking the outbox relay) is registered with ``on_commit``.
- ``local_day`` turns a UTC timestamp into a day number, the same on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from time import monotonic
from typing import Any, ClassVar

from sqlalchemy import DateTime, Dialect, Integer, MetaData, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from coordinator.errors import CoordinatorError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC; naive datetimes are refused so local time never leaks in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        # TypeDecorator answers ``object`` here; keyset cursors need to know these are datetimes.
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


def create_engine(
    database_url: str, *, echo: bool = False, busy_timeout: float = 30.0, connect_timeout: float | None = None
) -> AsyncEngine:
    """``busy_timeout``: how long a SQLite transaction waits for the writer's lock (seconds);
    ``connect_timeout``: how long a PostgreSQL connect may take (seconds; asyncpg's default if None)."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, echo=echo, connect_args={"timeout": busy_timeout})
        _configure_sqlite(engine, busy_timeout)
        return engine
    # Up to 30 connections per process, all kept once opened: with "10 kept + 20 overflow" a busy
    # minute (an event's opening scans) closed and reopened overflow connections all the time,
    # each reopening a TCP connect, authentication and a cold prepared-statement cache.
    connect_args = {"timeout": connect_timeout} if connect_timeout is not None else {}
    engine = create_async_engine(
        database_url, echo=echo, pool_size=30, max_overflow=0, connect_args=connect_args
    )
    _ping_after_idle(engine)
    return engine


# A pooled connection idle longer than this is pinged before it is handed out (the server may
# have restarted, or a firewall dropped the connection). One handed back moments ago is not:
# ``pool_pre_ping`` would ping every checkout, and asyncpg pings inside BEGIN … ROLLBACK, three
# round trips added to every request of a busy API. A connection that breaks between pings fails
# its request; SQLAlchemy then sees the disconnect and replaces every older pooled connection.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_after_idle(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_: Any, record: Any) -> None:
        record.info["returned_at"] = monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return  # new, or just used
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("pooled connection is gone") from exc  # the pool reconnects


def _configure_sqlite(engine: AsyncEngine, busy_timeout: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        # Take transaction control from the driver so that "begin" below can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """``info`` is copied into every session's ``info`` (``coordinator.composition`` puts the
    relay's kick there)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info or {})


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work for jobs and the CLI: commits on success, rolls back on error."""
    async with sessionmaker() as session, session.begin():
        yield session


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's current transaction has committed (never on rollback)."""
    session.sync_session.info.setdefault("on_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for callback in session.info.pop("on_commit", []):
        callback()


@event.listens_for(Session, "after_rollback")
def _forget_on_commit(session: Session) -> None:
    session.info.pop("on_commit", None)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def advisory_locks(session: AsyncSession, *keys: str) -> None:
    """Serialize transactions about the same keys (a phone, a client address) until they end,
    where no row exists yet to lock. PostgreSQL only: SQLite serializes whole transactions."""
    if is_postgres(session):
        for key in sorted(keys):  # one order everywhere: no deadlock between two requests
            await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


async def flush_or_raise(session: AsyncSession, error: CoordinatorError) -> None:
    """Flush inside a savepoint and turn a unique-constraint violation into ``error``.

    The constraint, not a prior SELECT, is what keeps duplicates out under concurrency. The
    rows that failed stay pending in the session, so ``error`` is meant to end the request; a
    caller that wants to go on after it adds its rows inside a savepoint of its own (see
    ``events.series.materialize``)."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise error from exc


class local_day(FunctionElement[int]):
    """``local_day(timestamp, offset_seconds)``: the day number (days since 1970-01-01) of a UTC
    timestamp at a fixed UTC offset, so day arithmetic is integer arithmetic on both databases."""

    type = Integer()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    at, offset = (compiler.process(c, **kw) for c in element.clauses)
    return f"((CAST(strftime('%s', {at}) AS INTEGER) + {offset}) / 86400)"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    at, offset = (compiler.process(c, **kw) for c in element.clauses)
    return f"((CAST(floor(extract(epoch FROM {at})) AS BIGINT) + {offset}) / 86400)"
