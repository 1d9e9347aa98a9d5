"""Prometheus metrics. Each app owns its ``CollectorRegistry`` (no process-global collectors), so
two apps in one process — tests, mostly — count separately."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

# Request latencies of a small service: most answers in milliseconds, exports in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "http_requests_total",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_request_duration = Histogram(
            "http_request_duration_seconds",
            "Time from request received to response finished, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_deliveries = Counter(
            "outbox_deliveries_total",
            "Outbox deliveries by handler and outcome (delivered, failed = will retry, dead = gave up).",
            ["handler", "outcome"],
            registry=self.registry,
        )
        self.scheduler_ticks = Counter(
            "scheduler_ticks_total",
            "Scheduler tick runs by tick name and outcome (ok, error).",
            ["tick", "outcome"],
            registry=self.registry,
        )

        self.reads = Counter(
            "reads_total",
            "Statistics, export and dashboard reads by the database that answered (replica, primary).",
            ["database"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
