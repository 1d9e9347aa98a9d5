"""``coordinator worker``: the scheduler ticks without the HTTP API, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import structlog
from prometheus_client import start_http_server

from coordinator.bus.relay import Relay
from coordinator.clock import Clock, SystemClock
from coordinator.db import create_engine, create_sessionmaker
from coordinator.observability.metrics import Metrics
from coordinator.scheduler.jobs import TICKS, Tick
from coordinator.scheduler.runner import Scheduler
from coordinator.settings import Settings

log = structlog.get_logger(__name__)


class Worker:
    """Owns an engine, the relay (kicked by events that handlers emit) and the scheduler."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, ticks: list[Tick] | None = None):
        self.settings = settings
        self.engine = create_engine(settings.database_url)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.clock = clock or SystemClock()
        self.metrics = Metrics()
        self.relay = Relay(
            sessionmaker=self.sessionmaker, clock=self.clock, settings=settings, metrics=self.metrics
        )
        self.relay.attach()
        self.scheduler = Scheduler(
            TICKS if ticks is None else ticks,
            sessionmaker=self.sessionmaker,
            clock=self.clock,
            settings=settings,
            metrics=self.metrics,
        )

    def start(self) -> None:
        self.relay.start()
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.shutdown()
        await self.relay.stop()
        await self.engine.dispose()


async def run_worker(
    settings: Settings, *, metrics_port: int | None = None, metrics_host: str = "127.0.0.1"
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    worker = Worker(settings)
    # The worker has no API; Prometheus scrapes its relay and tick counters from this port instead.
    server = (
        start_http_server(metrics_port, metrics_host, registry=worker.metrics.registry)[0]
        if metrics_port is not None
        else None
    )
    worker.start()
    log.info("worker_started", ticks=worker.scheduler.job_ids(), metrics_port=metrics_port)
    try:
        await stop.wait()
    finally:
        await worker.stop()
        if server is not None:
            server.shutdown()
        log.info("worker_stopped")
