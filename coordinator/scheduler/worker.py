"""``coordinator worker``: the scheduler ticks without the HTTP API, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import structlog
from prometheus_client import start_http_server

from coordinator.clock import SystemClock
from coordinator.composition import build_runtime
from coordinator.settings import Settings

log = structlog.get_logger(__name__)


async def run_worker(
    settings: Settings, *, metrics_port: int | None = None, metrics_host: str = "127.0.0.1"
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runtime = build_runtime(settings, SystemClock())
    # The worker has no API; Prometheus scrapes its relay and tick counters from this port instead.
    server = (
        start_http_server(metrics_port, metrics_host, registry=runtime.metrics.registry)[0]
        if metrics_port is not None
        else None
    )
    runtime.start(scheduler=True)  # the relay too: events its handlers emit are delivered at once
    log.info("worker_started", ticks=runtime.scheduler.job_ids(), metrics_port=metrics_port)
    try:
        await stop.wait()
    finally:
        await runtime.aclose()
        if server is not None:
            server.shutdown()
        log.info("worker_stopped")
