"""The periodic ticks the scheduler fires.

A tick is a plain async function ``run(*, sessionmaker, clock, settings) -> int`` living in the
package it serves; it opens its own transactions and returns how much work it did (rows handled).
All durable state is in our tables, so a tick may be skipped, repeated or run by two processes
at once; ticks claim their work with leases / ``SKIP LOCKED``.

To add one, add ``Tick("name", every_seconds, run)`` to ``ticks`` (``interval_setting`` names a
``Settings`` field that overrides ``every_seconds``, so operators can tune it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

from coordinator.attendance.completion import complete_finished_events
from coordinator.backup.snapshot import BACKUP_CHECK_SECONDS, backup_database
from coordinator.bus.relay import Relay
from coordinator.events.series.materialize import materialize_all
from coordinator.events.signups.invitations import expire_invitations
from coordinator.notify.channels import Channel
from coordinator.notify.dispatcher import dispatch_due
from coordinator.notify.resolution import resolve_unknown
from coordinator.retention import purge_old_rows
from coordinator.settings import Settings

JobFn = Callable[..., Awaitable[int]]


@dataclass(frozen=True)
class Tick:
    name: str
    every_seconds: float
    run: JobFn
    interval_setting: str | None = None

    def interval(self, settings: Settings) -> float:
        if self.interval_setting is None:
            return self.every_seconds
        value = getattr(settings, self.interval_setting)
        return float(value)


def ticks(*, relay: Relay, channels: Mapping[str, Channel]) -> list[Tick]:
    """Every tick, the relay's first; the relay's and the notification ticks use the process's
    relay (the one its commits kick) and channels (with their connection pools)."""
    return [
        Tick("relay", 2.0, _run_relay(relay), interval_setting="relay_interval_seconds"),
        Tick(
            "dispatch_notifications",
            2.0,
            partial(dispatch_due, channels=channels),
            interval_setting="notify_interval_seconds",
        ),
        Tick(
            "resolve_unknown_notifications",
            300.0,
            partial(resolve_unknown, channels=channels),
            interval_setting="notify_resolve_interval_seconds",
        ),
        Tick("complete_events", 60.0, complete_finished_events),
        Tick(
            "expire_invitations",
            300.0,
            expire_invitations,
            interval_setting="invitation_expiry_interval_seconds",
        ),
        Tick("materialize_series", 3600.0, materialize_all, interval_setting="series_interval_seconds"),
        Tick("purge_old_rows", 3600.0, purge_old_rows, interval_setting="purge_interval_seconds"),
        Tick("backup_database", BACKUP_CHECK_SECONDS, backup_database),
    ]


def _run_relay(relay: Relay) -> JobFn:
    async def run(**_: object) -> int:  # the relay has its own sessionmaker, clock and settings
        return await relay.run_once()

    return run
