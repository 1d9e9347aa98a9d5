"""Reads that may go to a streaming read replica (``COORDINATOR_DATABASE_REPLICA_URL``):
statistics, exports and dashboards. A read goes to the replica while it is fresh enough and
answers; otherwise, and whenever it fails to answer, to the primary, in the request's session."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import monotonic
from typing import Literal, TypeVar

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from coordinator.observability.metrics import Metrics

T = TypeVar("T")
log = structlog.get_logger(__name__)

# Fresh: streaming from the primary and at most ``max_lag`` seconds behind it. The lag is the age of
# the last commit replayed, or 0 when it has replayed all it received (an idle primary writes
# nothing, so the last replayed commit may be old while nothing is missing).
_FRESHNESS = text(
    """
    SELECT NOT recovering OR (streaming AND lag <= CAST(:max_lag AS double precision)) AS fresh, lag
    FROM (SELECT pg_is_in_recovery() AS recovering,
                 EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming,
                 CAST(CASE WHEN NOT pg_is_in_recovery()
                                OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                           ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
                      END AS double precision) AS lag) AS replica
    """
)
# What fails when the replica is down, restarting or cut off mid-query.
_UNAVAILABLE = (DBAPIError, OSError, TimeoutError)


@dataclass(frozen=True)
class ReplicaState:
    state: Literal["streaming", "lagging", "down"]  # streaming: fresh, reads go to it
    lag_seconds: float | None  # unknown when down, or before it has replayed anything


class Reads:
    """Routes the read-only work of statistics, exports and dashboards."""

    def __init__(
        self,
        replica: async_sessionmaker[AsyncSession] | None,
        *,
        max_lag_seconds: float,
        retry_after_seconds: float,
        metrics: Metrics,
    ) -> None:
        self.replica = replica
        self.max_lag_seconds = max_lag_seconds
        self.retry_after_seconds = retry_after_seconds
        self.metrics = metrics
        self._down_until = 0.0

    async def run(self, primary: AsyncSession, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work`` on the replica when it is usable, else on ``primary`` (the request's session).
        Errors of ``work`` itself (a 404, a bad parameter) are the answer, wherever it ran."""
        if self.replica is not None and monotonic() >= self._down_until:
            try:
                async with self.replica() as session, session.begin():
                    if (await self._freshness(session)).state == "streaming":
                        answer = await work(session)
                        self.metrics.reads.labels(database="replica").inc()
                        return answer
                    log.info("replica_lagging", max_lag_seconds=self.max_lag_seconds)
            except _UNAVAILABLE as exc:
                self._fail(exc)
        answer = await work(primary)
        self.metrics.reads.labels(database="primary").inc()
        return answer

    async def state(self, *, timeout_seconds: float) -> ReplicaState | None:
        """The replica as the next read would find it (None without one): a replica that failed
        lately counts as down until it is tried again, as reads leave it alone until then."""
        if self.replica is None:
            return None
        if monotonic() < self._down_until:
            return ReplicaState("down", None)
        try:
            async with asyncio.timeout(timeout_seconds), self.replica() as session, session.begin():
                return await self._freshness(session)
        except _UNAVAILABLE as exc:
            self._fail(exc)
            return ReplicaState("down", None)

    async def _freshness(self, session: AsyncSession) -> ReplicaState:
        fresh, lag = (await session.execute(_FRESHNESS, {"max_lag": self.max_lag_seconds})).one()
        return ReplicaState("streaming" if fresh else "lagging", None if lag is None else float(lag))

    def _fail(self, exc: Exception) -> None:
        # Not asked again for a while: each attempt at a dead server costs a connect timeout.
        self._down_until = monotonic() + self.retry_after_seconds
        log.warning("replica_unavailable", error=type(exc).__name__)


def replica_sessionmaker(engine: AsyncEngine | None) -> async_sessionmaker[AsyncSession] | None:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False) if engine is not None else None
