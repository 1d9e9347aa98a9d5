"""APScheduler wiring: fires each ``Tick`` on its interval inside the running event loop.

APScheduler only decides *when*; what to do is in our tables, so a missed or doubled tick costs
nothing. ``max_instances=1`` keeps one run of a tick at a time in this process, and ``coalesce``
turns a backlog of missed firings (a slow run, a suspended laptop) into one run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.observability.metrics import Metrics
from coordinator.scheduler.jobs import Tick
from coordinator.settings import Settings

log = structlog.get_logger(__name__)

# On shutdown, running ticks get this long to finish their transaction before being cancelled.
GRACE_SECONDS = 10.0


class Scheduler:
    def __init__(
        self,
        ticks: Sequence[Tick],
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        metrics: Metrics | None = None,
    ) -> None:
        self.ticks = list(ticks)
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings
        self.metrics = metrics
        self.runs: dict[str, int] = {}
        self._running: set[asyncio.Task[object]] = set()
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    def start(self) -> None:
        """Schedule every tick, each first firing right away; call from inside the event loop."""
        # APScheduler runs on wall-clock time by nature; the injected clock is for domain time.
        first_run = datetime.now(UTC)
        for tick in self.ticks:
            self._scheduler.add_job(
                self.run_tick,
                "interval",
                seconds=tick.interval(self.settings),
                args=[tick],
                id=tick.name,
                name=tick.name,
                next_run_time=first_run,
                replace_existing=True,
            )
        self._scheduler.start()
        log.info("scheduler_started", ticks=[t.name for t in self.ticks])

    async def shutdown(self) -> None:
        if not self._scheduler.running:
            return
        self._scheduler.pause()
        if self._running:
            await asyncio.wait(set(self._running), timeout=GRACE_SECONDS)
        self._scheduler.shutdown(wait=False)  # cancels what is still running after the grace period
        await asyncio.sleep(0)  # AsyncIOScheduler applies the shutdown on the loop's next turn
        log.info("scheduler_stopped")

    async def run_tick(self, tick: Tick) -> int:
        """One run of ``tick``; errors are logged and counted, never raised into APScheduler."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            done = await tick.run(sessionmaker=self.sessionmaker, clock=self.clock, settings=self.settings)
        except Exception:
            log.exception("scheduler_tick_failed", tick=tick.name)
            self._count(tick.name, "error")
            return 0
        finally:
            if task is not None:
                self._running.discard(task)
        self.runs[tick.name] = self.runs.get(tick.name, 0) + 1
        self._count(tick.name, "ok")
        if done:
            log.debug("scheduler_tick_done", tick=tick.name, work=done)
        return done

    def _count(self, tick: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.scheduler_ticks.labels(tick=tick, outcome=outcome).inc()
