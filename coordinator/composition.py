"""What a process builds at start-up, in one place: the database (and its read replica), the bus
with its handlers, the notification channels and the scheduler. ``create_app`` (``serve``),
``coordinator worker`` and the tests all get theirs from ``build_runtime``; nothing below is found
through a module global."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from coordinator.attendance import handlers as attendance_handlers
from coordinator.auth.wechat import WechatLogin
from coordinator.bus.outbox import RELAY_KICK_KEY
from coordinator.bus.registry import Registry
from coordinator.bus.relay import Relay
from coordinator.clock import Clock
from coordinator.db import create_engine, create_sessionmaker
from coordinator.domain_events import DomainEventType as E
from coordinator.notify import course_notices
from coordinator.notify import handlers as notify_handlers
from coordinator.notify.channels import Channel, build_channels, provider_client
from coordinator.observability.metrics import Metrics
from coordinator.replica import Reads, replica_sessionmaker
from coordinator.scheduler.jobs import Tick, ticks
from coordinator.scheduler.runner import Scheduler
from coordinator.settings import Settings
from coordinator.stats import rollups


def build_registry() -> Registry:
    """Every bus handler, under the name its delivery rows keep (never rename one), with the
    domain events it takes."""
    registry = Registry()
    for name, handler, event_types in (
        ("attendance.no_shows", attendance_handlers.mark_no_shows_of_completed_event, [E.event_completed]),
        (
            "notify.signup_reminders",
            notify_handlers.plan_signup_reminders,
            [E.signup_confirmed, E.signup_promoted],
        ),
        ("notify.event_reminders", notify_handlers.plan_event_reminders, [E.event_published]),
        ("notify.event_rescheduled", notify_handlers.move_reminders, [E.event_rescheduled]),
        ("notify.event_cancelled", notify_handlers.cancel_reminders, [E.event_cancelled]),
        ("notify.signup_cancelled", notify_handlers.cancel_signup_notifications, [E.signup_cancelled]),
        ("notify.invitation_sent", notify_handlers.send_invitation, [E.invitation_sent]),
        ("notify.invitation_answered", notify_handlers.drop_unsent_invitation, [E.invitation_answered]),
        (
            "notify.enrolment_notice",
            course_notices.tell_enrolment,
            [E.enrolment_requested, E.enrolment_answered],
        ),
        ("notify.enrolment_answered", course_notices.drop_unsent_course_invitation, [E.enrolment_answered]),
        (rollups.EVENT_HANDLER, rollups.refresh_rollups_of_event, rollups.EVENT_FACTS),
        (rollups.PERSON_HANDLER, rollups.refresh_rollups_of_person, rollups.PERSON_FACTS),
    ):
        registry.subscribe(*event_types, name=name)(handler)
    return registry


@dataclass(frozen=True)
class Runtime:
    """What a process runs on, from ``build_runtime``; ``start`` it, then ``aclose`` it."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    metrics: Metrics
    relay: Relay
    channels: Mapping[str, Channel]
    scheduler: Scheduler
    # The channels' HTTP client when they were built here; None when the caller passed its own
    # channels (and closes them itself).
    http: httpx.AsyncClient | None
    wechat_login: WechatLogin
    reads: Reads  # statistics, exports and dashboards: the read replica when one is configured
    replica_engine: AsyncEngine | None

    def start(self, *, scheduler: bool) -> None:
        """Deliver domain events right after each commit that emitted some, and fire the ticks
        if ``scheduler``. Tests leave a runtime unstarted and run ``relay.drain()`` themselves."""
        self.relay.start()
        if scheduler:
            self.scheduler.start()

    async def aclose(self) -> None:
        """Stop what runs, then release connections; a second call does nothing more."""
        await self.scheduler.shutdown()
        await self.relay.stop()
        if self.http is not None:
            for channel in set(self.channels.values()):
                await channel.aclose()
            await self.http.aclose()
        await self.wechat_login.aclose()
        if self.replica_engine is not None:
            await self.replica_engine.dispose()
        await self.engine.dispose()


def build_runtime(
    settings: Settings,
    clock: Clock,
    *,
    channels: Mapping[str, Channel] | None = None,
    scheduled: Sequence[Tick] | None = None,
) -> Runtime:
    """``channels``: None builds them from the settings. ``scheduled``: None fires every tick."""
    engine = create_engine(settings.database_url, busy_timeout=settings.sqlite_busy_timeout_seconds)
    relay: Relay  # built below, before any session exists
    # Sessions kick the relay after a commit that emitted events (``bus.outbox.emit``).
    sessionmaker = create_sessionmaker(engine, info={RELAY_KICK_KEY: lambda: relay.kick()})
    metrics = Metrics()
    relay = Relay(
        sessionmaker=sessionmaker, clock=clock, settings=settings, registry=build_registry(), metrics=metrics
    )
    http = None
    if channels is None:
        http = provider_client(settings)
        channels = build_channels(settings, http, sessionmaker, clock=clock)
    scheduler = Scheduler(
        ticks(relay=relay, channels=channels) if scheduled is None else scheduled,
        sessionmaker=sessionmaker,
        clock=clock,
        settings=settings,
        metrics=metrics,
    )
    replica_engine = None
    if settings.database_replica_url:
        replica_engine = create_engine(
            settings.database_replica_url, connect_timeout=settings.replica_connect_timeout_seconds
        )
    reads = Reads(
        replica_sessionmaker(replica_engine),
        max_lag_seconds=settings.replica_max_lag_seconds,
        retry_after_seconds=settings.replica_retry_seconds,
        metrics=metrics,
    )
    return Runtime(
        settings=settings,
        clock=clock,
        engine=engine,
        sessionmaker=sessionmaker,
        metrics=metrics,
        relay=relay,
        channels=channels,
        scheduler=scheduler,
        http=http,
        wechat_login=WechatLogin(settings=settings),
        reads=reads,
        replica_engine=replica_engine,
    )
