"""The outbox relay on SQLite and PostgreSQL: fan-out, order per aggregate, retries, dead letters."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.bus.outbox import emit
from coordinator.bus.registry import DeliveredEvent, HandlerContext, Registry
from coordinator.bus.relay import Relay
from coordinator.clock import FixedClock
from coordinator.db import transaction
from coordinator.domain_events import DomainEventType
from coordinator.observability.metrics import Metrics
from coordinator.settings import Settings
from tests.bus.conftest import Recorder, deliveries, emit_events, recording_handler


async def test_event_reaches_each_subscribed_handler_once(
    relay: Relay,
    bus_registry: Registry,
    recorder: Recorder,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    recording_handler(bus_registry, recorder, "notify.plan", DomainEventType.event_published)
    recording_handler(
        bus_registry,
        recorder,
        "stats.rollup",
        DomainEventType.event_published,
        DomainEventType.event_cancelled,
    )
    recording_handler(bus_registry, recorder, "webhooks.cancelled", DomainEventType.event_cancelled)
    [published] = await emit_events(sessionmaker, clock, (DomainEventType.event_published, 10))

    assert await relay.drain() == 2
    assert sorted(recorder.calls) == [("notify.plan", published), ("stats.rollup", published)]
    rows = await deliveries(sessionmaker)
    assert set(rows) == {(published, "notify.plan"), (published, "stats.rollup")}
    assert all(row.status == "done" and row.done_at == clock.now() for row in rows.values())

    assert await relay.drain() == 0  # nothing is delivered twice
    assert len(recorder.calls) == 2


async def test_delivered_event_carries_the_stored_fields(
    relay: Relay, bus_registry: Registry, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    seen: list[DeliveredEvent] = []

    @bus_registry.subscribe(DomainEventType.event_rescheduled, name="probe")
    async def probe(ctx: HandlerContext, event: DeliveredEvent) -> None:
        seen.append(event)

    async with transaction(sessionmaker) as session:
        stored = await emit(
            session,
            clock,
            DomainEventType.event_rescheduled,
            aggregate_type="event",
            aggregate_id=5,
            station_id=3,
            payload={"old_starts_at": "2026-12-01T02:00:00+00:00"},
        )
    await relay.drain()

    assert seen == [
        DeliveredEvent(
            id=stored.id,
            event_type=DomainEventType.event_rescheduled,
            aggregate_type="event",
            aggregate_id=5,
            station_id=3,
            payload={"old_starts_at": "2026-12-01T02:00:00+00:00"},
            occurred_at=clock.now(),
        )
    ]


async def test_fan_out_repeated_creates_no_second_delivery(
    relay: Relay,
    bus_registry: Registry,
    recorder: Recorder,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    recording_handler(bus_registry, recorder, "a", DomainEventType.event_published)
    [event_id] = await emit_events(sessionmaker, clock, (DomainEventType.event_published, 1))
    await relay.drain()
    async with transaction(sessionmaker) as session:  # as if a relay died after inserting, before marking
        await session.execute(update(OutboxEvent).values(fanned_out=False))

    await relay.drain()

    assert recorder.calls == [("a", event_id)]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxDelivery)) == 1
        assert await session.scalar(select(OutboxEvent.fanned_out)) is True


async def test_event_nobody_listens_to_is_marked_fanned_out(
    relay: Relay,
    bus_registry: Registry,
    recorder: Recorder,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    recording_handler(bus_registry, recorder, "a", DomainEventType.event_published)
    await emit_events(sessionmaker, clock, (DomainEventType.person_updated, 1))

    assert await relay.drain() == 0
    assert await deliveries(sessionmaker) == {}
    async with sessionmaker() as session:
        assert await session.scalar(select(OutboxEvent.fanned_out)) is True


async def test_failing_event_holds_back_later_events_of_its_aggregate_for_that_handler_only(
    relay: Relay,
    bus_registry: Registry,
    recorder: Recorder,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    recording_handler(
        bus_registry, recorder, "flaky", DomainEventType.event_published, DomainEventType.event_rescheduled
    )
    recording_handler(
        bus_registry, recorder, "steady", DomainEventType.event_published, DomainEventType.event_rescheduled
    )
    first, second, other = await emit_events(
        sessionmaker,
        clock,
        (DomainEventType.event_published, 1),
        (DomainEventType.event_rescheduled, 1),
        (DomainEventType.event_published, 2),
    )
    recorder.fail["flaky"] = {first}

    await relay.drain()

    assert recorder.of("flaky") == [first, other]  # `second` waits for `first`; aggregate 2 does not
    # In order per aggregate: `second` only after `first` is done (a claim round later).
    assert recorder.of("steady") == [first, other, second]

    recorder.fail["flaky"] = set()
    clock.set(clock.now() + timedelta(hours=1))
    await relay.drain()

    assert recorder.of("flaky") == [first, other, first, second]


async def test_failed_delivery_is_retried_after_exponential_backoff(
    relay: Relay,
    bus_registry: Registry,
    recorder: Recorder,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
    metrics: Metrics,
) -> None:
    recording_handler(bus_registry, recorder, "flaky", DomainEventType.event_published)
    [event_id] = await emit_events(sessionmaker, clock, (DomainEventType.event_published, 1))
    recorder.fail["flaky"] = {event_id}
    base = settings.relay_backoff_base_seconds
    start = clock.now()

    await relay.drain()
    row = (await deliveries(sessionmaker))[(event_id, "flaky")]
    assert (row.status, row.attempts, row.lease_until) == ("pending", 1, None)
    assert start + timedelta(seconds=base) <= row.next_attempt_at <= start + timedelta(seconds=base * 1.25)
    # The error is kept for operators, with the phone number in the message masked.
    assert row.last_error == f"RuntimeError: flaky cannot handle event {event_id}; call 138****1234"

    clock.set(row.next_attempt_at - timedelta(milliseconds=1))
    assert await relay.drain() == 0  # not before its time

    clock.set(row.next_attempt_at)
    await relay.drain()
    second = (await deliveries(sessionmaker))[(event_id, "flaky")]
    assert second.attempts == 2
    delay = second.next_attempt_at - clock.now()
    assert timedelta(seconds=2 * base) <= delay <= timedelta(seconds=2 * base * 1.25)  # doubled

    recorder.fail["flaky"] = set()
    clock.set(second.next_attempt_at)
    await relay.drain()
    done = (await deliveries(sessionmaker))[(event_id, "flaky")]
    assert (done.status, done.attempts, done.last_error) == ("done", 3, None)
    assert recorder.of("flaky") == [event_id] * 3
    assert metrics.outbox_deliveries.labels(handler="flaky", outcome="failed")._value.get() == 2
    assert metrics.outbox_deliveries.labels(handler="flaky", outcome="delivered")._value.get() == 1


async def test_delivery_is_dead_after_max_attempts_and_stops_holding_back_its_aggregate(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
    bus_registry: Registry,
    recorder: Recorder,
    metrics: Metrics,
) -> None:
    settings = settings.model_copy(update={"relay_max_attempts": 3})
    relay = Relay(
        sessionmaker=sessionmaker, clock=clock, settings=settings, registry=bus_registry, metrics=metrics
    )
    recording_handler(
        bus_registry, recorder, "broken", DomainEventType.event_published, DomainEventType.event_cancelled
    )
    poison, later = await emit_events(
        sessionmaker, clock, (DomainEventType.event_published, 1), (DomainEventType.event_cancelled, 1)
    )
    recorder.fail["broken"] = {poison}

    for _ in range(5):
        await relay.drain()
        clock.set(clock.now() + timedelta(hours=2))

    rows = await deliveries(sessionmaker)
    assert (rows[(poison, "broken")].status, rows[(poison, "broken")].attempts) == ("dead", 3)
    assert rows[(later, "broken")].status == "done"
    assert recorder.of("broken") == [poison, poison, poison, later]
    assert metrics.outbox_deliveries.labels(handler="broken", outcome="dead")._value.get() == 1


async def test_handler_writes_commit_with_the_delivery_and_roll_back_with_its_failure(
    relay: Relay, bus_registry: Registry, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    attempts: list[int] = []

    @bus_registry.subscribe(DomainEventType.event_cancelled, name="writer")
    async def writer(ctx: HandlerContext, event: DeliveredEvent) -> None:
        attempts.append(event.id)
        await emit(
            ctx.session,
            ctx.clock,
            DomainEventType.event_updated,
            aggregate_type="event",
            aggregate_id=event.aggregate_id,
            station_id=None,
            payload={"try": len(attempts)},
        )
        if len(attempts) == 1:
            raise RuntimeError("gateway down")

    await emit_events(sessionmaker, clock, (DomainEventType.event_cancelled, 9))
    await relay.drain()
    clock.set(clock.now() + timedelta(minutes=5))
    await relay.drain()

    async with sessionmaker() as session:
        written = (
            await session.scalars(
                select(OutboxEvent.payload).where(OutboxEvent.event_type == DomainEventType.event_updated)
            )
        ).all()
    assert len(attempts) == 2
    assert written == [{"try": 2}]  # the failed attempt's write was rolled back with it


async def test_claim_of_a_dead_process_is_taken_over_after_its_lease(
    relay: Relay,
    bus_registry: Registry,
    recorder: Recorder,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
) -> None:
    recording_handler(bus_registry, recorder, "a", DomainEventType.event_published)
    [event_id] = await emit_events(sessionmaker, clock, (DomainEventType.event_published, 1))
    crashed = Relay(sessionmaker=sessionmaker, clock=clock, settings=settings, registry=bus_registry)
    await crashed._fan_out()
    [claim] = await crashed._claim()  # ...and the process dies before delivering

    assert await relay.run_once() == 0  # leased: nobody else takes it
    clock.set(clock.now() + timedelta(seconds=settings.relay_lease_seconds))
    assert await relay.run_once() == 1
    assert recorder.calls == [("a", event_id)]

    await crashed._deliver(claim)  # the old claim, should its process come back, delivers nothing
    assert recorder.calls == [("a", event_id)]
    row = (await deliveries(sessionmaker))[(event_id, "a")]
    assert (row.status, row.attempts) == ("done", 2)
