"""Reads that may go to a streaming read replica (``COORDINATOR_DATABASE_REPLICA_URL``):
statistics, exports and dashboards. A read goes to the replica while it is fresh enough and
answers; otherwise, and whenever it fails to answer, to the primary, in the request's session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import monotonic
from typing import TypeVar

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from coordinator.observability.metrics import Metrics

T = TypeVar("T")
log = structlog.get_logger(__name__)

# Fresh: streaming from the primary and either replayed all it received (an idle primary writes
# nothing, so the last replayed commit may be old while nothing is missing) or at most
# ``max_lag`` seconds behind the primary's last commit it has replayed.
_FRESHNESS = text(
    """
    SELECT NOT pg_is_in_recovery()
        OR (EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
            AND (pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                 OR now() - pg_last_xact_replay_timestamp() <= make_interval(secs => :max_lag)))
    """
)
# What fails when the replica is down, restarting or cut off mid-query.
_UNAVAILABLE = (DBAPIError, OSError, TimeoutError)


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
                    if await session.scalar(_FRESHNESS, {"max_lag": self.max_lag_seconds}):
                        answer = await work(session)
                        self.metrics.reads.labels(database="replica").inc()
                        return answer
                    log.info("replica_lagging", max_lag_seconds=self.max_lag_seconds)
            except _UNAVAILABLE as exc:
                # Not asked again for a while: each attempt at a dead server costs a connect timeout.
                self._down_until = monotonic() + self.retry_after_seconds
                log.warning("replica_unavailable", error=type(exc).__name__)
        answer = await work(primary)
        self.metrics.reads.labels(database="primary").inc()
        return answer


def replica_sessionmaker(engine: AsyncEngine | None) -> async_sessionmaker[AsyncSession] | None:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False) if engine is not None else None
