"""The outbox relay: fans each stored domain event out to its handlers and delivers it, at least
once, in order per aggregate and handler.

A run fans new events out (one delivery row per subscribed handler), then claims due deliveries
and runs each handler in a transaction that first checks the claim is still its own and marks
the delivery done. A ``dead`` delivery is retried by setting it back to ``pending``. Claims,
leases and ordering: docs/concurrency.md, "The outbox relay"."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from coordinator.bus.models import OutboxDelivery, OutboxEvent
from coordinator.bus.registry import DeliveredEvent, HandlerContext, Registry, Subscription
from coordinator.clock import Clock
from coordinator.db import is_postgres, transaction
from coordinator.domain_events import DomainEventType
from coordinator.masking import mask_text
from coordinator.settings import Settings

if TYPE_CHECKING:
    from coordinator.observability.metrics import Metrics

log = structlog.get_logger(__name__)

UNFINISHED = ("pending", "running")
# Claim rounds per run: bounds one tick's work so a flood cannot starve the other ticks.
MAX_ROUNDS = 20
MAX_ERROR_CHARS = 2000
JITTER = 0.25


@dataclass(frozen=True)
class Claim:
    """A delivery this relay holds; ``attempt`` (the row's attempts after claiming) identifies the claim."""

    event_id: int
    handler: str
    attempt: int


class Relay:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        registry: Registry,
        metrics: Metrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings
        self.registry = registry
        self.metrics = metrics
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not security)
        self._run_lock = asyncio.Lock()
        self._kicks_enabled = False
        self._kick_pending = False
        self._kick_task: asyncio.Task[None] | None = None

    # --- kicks ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Accept kicks (a started runtime does this; tests call ``run_once``/``drain`` instead)."""
        self._kicks_enabled = True

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Refuse new kicks and let a kicked run finish (cancelled after ``grace_seconds``)."""
        self._kicks_enabled = False
        task, self._kick_task = self._kick_task, None
        if task is None or task.done():
            return
        _, pending = await asyncio.wait({task}, timeout=grace_seconds)
        if pending:
            task.cancel()  # its transaction rolls back; the claim's lease expires and another run retries
            await asyncio.wait({task})

    def kick(self) -> None:
        """Called right after a commit that emitted events: schedule one run on the running loop.

        Kicks coalesce: while a kicked run is under way, further kicks only ask for one more run."""
        if not self._kicks_enabled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a synchronous caller (a script): the next tick delivers
        self._kick_pending = True
        if self._kick_task is None or self._kick_task.done():
            self._kick_task = loop.create_task(self._run_kicked(), name="outbox-relay-kick")

    async def _run_kicked(self) -> None:
        while self._kick_pending and self._kicks_enabled:
            self._kick_pending = False
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox_relay_run_failed", trigger="kick")

    # --- running -------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Fan out new events, then deliver what is due; returns how many deliveries were attempted."""
        async with self._run_lock:
            while await self._fan_out() == self.settings.relay_batch_size:
                pass
            attempted = 0
            for _ in range(MAX_ROUNDS):
                claims = await self._claim()
                if not claims:
                    break
                for claim in claims:
                    await self._deliver(claim)
                attempted += len(claims)
            return attempted

    async def drain(self, *, max_runs: int = 100) -> int:
        """Run until nothing is due (events emitted by handlers included); for tests and the CLI."""
        total = 0
        for _ in range(max_runs):
            attempted = await self.run_once()
            if attempted == 0:
                return total
            total += attempted
        return total

    async def _fan_out(self) -> int:
        async with transaction(self.sessionmaker) as session:
            query = (
                select(OutboxEvent.id, OutboxEvent.event_type)
                .where(OutboxEvent.fanned_out.is_(False))
                .order_by(OutboxEvent.id)
                .limit(self.settings.relay_batch_size)
            )
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            events = (await session.execute(query)).all()
            if not events:
                return 0
            now = self.clock.now()
            rows = [
                {
                    "event_id": event_id,
                    "handler": s.name,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for event_id, event_type in events
                for s in self.registry.subscribers(event_type)
            ]
            if rows:
                insert = pg_insert if is_postgres(session) else sqlite_insert
                await session.execute(insert(OutboxDelivery).on_conflict_do_nothing(), rows)
            ids = [event_id for event_id, _ in events]
            await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(fanned_out=True))
            return len(events)

    async def _claim(self) -> list[Claim]:
        names = self.registry.names
        if not names:
            return []
        async with transaction(self.sessionmaker) as session:
            now = self.clock.now()
            query = (
                select(OutboxDelivery)
                .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
                .where(
                    OutboxDelivery.handler.in_(names),
                    or_(
                        and_(OutboxDelivery.status == "pending", OutboxDelivery.next_attempt_at <= now),
                        and_(OutboxDelivery.status == "running", OutboxDelivery.lease_until <= now),
                    ),
                    ~_earlier_delivery_unfinished(),
                    ~_earlier_event_unfanned(),
                )
                .order_by(OutboxDelivery.event_id, OutboxDelivery.handler)
                .limit(self.settings.relay_batch_size)
            )
            if is_postgres(session):
                query = query.with_for_update(of=OutboxDelivery, skip_locked=True)
            deliveries = (await session.scalars(query)).all()
            return self._take(deliveries, now)

    def _take(self, deliveries: Sequence[OutboxDelivery], now: datetime) -> list[Claim]:
        lease_until = now + timedelta(seconds=self.settings.relay_lease_seconds)
        claims = []
        for delivery in deliveries:
            if delivery.attempts >= self.settings.relay_max_attempts:
                # Its lease ran out as often as it may be tried: the handler keeps killing its process.
                delivery.status, delivery.lease_until = "dead", None
                delivery.last_error = delivery.last_error or "lease expired on every attempt"
                self._count(delivery.handler, "dead")
                log.error(
                    "outbox_delivery_dead",
                    event_id=delivery.event_id,
                    handler=delivery.handler,
                    attempts=delivery.attempts,
                    error=delivery.last_error,
                )
                continue
            delivery.status, delivery.lease_until = "running", lease_until
            delivery.attempts += 1
            claims.append(Claim(delivery.event_id, delivery.handler, delivery.attempts))
        return claims

    async def _deliver(self, claim: Claim) -> None:
        subscription = self.registry.get(claim.handler)
        assert subscription is not None  # claims only name registered handlers
        try:
            outcome = await self._handle(claim, subscription)
        except Exception as exc:  # the commit itself failed: record it so backoff applies
            log.exception("outbox_delivery_commit_failed", event_id=claim.event_id, handler=claim.handler)
            async with transaction(self.sessionmaker) as session:
                delivery = await self._own_delivery(session, claim)
                outcome = self._record_failure(delivery, exc) if delivery is not None else None
        if outcome is not None:
            self._count(claim.handler, outcome)

    async def _handle(self, claim: Claim, subscription: Subscription) -> str | None:
        async with transaction(self.sessionmaker) as session:
            delivery = await self._own_delivery(session, claim)
            if delivery is None:
                log.info("outbox_claim_lost", event_id=claim.event_id, handler=claim.handler)
                return None
            row = await session.get_one(OutboxEvent, claim.event_id)
            event = DeliveredEvent(
                id=row.id,
                event_type=DomainEventType(row.event_type),
                aggregate_type=row.aggregate_type,
                aggregate_id=row.aggregate_id,
                station_id=row.station_id,
                payload=dict(row.payload),
                occurred_at=row.occurred_at,
            )
            context = HandlerContext(session=session, clock=self.clock, settings=self.settings)
            try:
                async with session.begin_nested():
                    await subscription.handler(context, event)
            except Exception as exc:
                # The savepoint took the handler's writes back; the failure is stored instead.
                delivery = await session.get_one(
                    OutboxDelivery, (claim.event_id, claim.handler), populate_existing=True
                )
                return self._record_failure(delivery, exc)
            delivery.status, delivery.lease_until, delivery.last_error = "done", None, None
            delivery.done_at = self.clock.now()
            return "delivered"

    async def _own_delivery(self, session: AsyncSession, claim: Claim) -> OutboxDelivery | None:
        """The delivery row, locked, if our claim still holds (no other relay took it after its lease)."""
        delivery = await session.get(
            OutboxDelivery, (claim.event_id, claim.handler), with_for_update=True, populate_existing=True
        )
        if delivery is None or delivery.status != "running" or delivery.attempts != claim.attempt:
            return None
        return delivery

    def _record_failure(self, delivery: OutboxDelivery, exc: BaseException) -> str:
        delivery.last_error = mask_text(f"{type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS]
        delivery.lease_until = None
        fields = {"event_id": delivery.event_id, "handler": delivery.handler, "attempts": delivery.attempts}
        if delivery.attempts >= self.settings.relay_max_attempts:
            delivery.status = "dead"
            log.error("outbox_delivery_dead", error=delivery.last_error, **fields)
            return "dead"
        delivery.status = "pending"
        delivery.next_attempt_at = self.clock.now() + self.backoff(delivery.attempts)
        log.warning(
            "outbox_delivery_failed",
            error=delivery.last_error,
            retry_at=delivery.next_attempt_at.isoformat(),
            **fields,
        )
        return "failed"

    def backoff(self, attempts: int) -> timedelta:
        """base·2^(attempts-1), capped, stretched by up to 25 % so retries of many events spread out."""
        seconds = min(
            self.settings.relay_backoff_base_seconds * 2 ** (attempts - 1),
            self.settings.relay_backoff_max_seconds,
        )
        return timedelta(seconds=seconds * (1 + JITTER * self._rng.random()))

    def _count(self, handler: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.outbox_deliveries.labels(handler=handler, outcome=outcome).inc()


def _earlier_delivery_unfinished() -> Any:
    """An earlier event of the same aggregate whose delivery to the same handler is not finished."""
    earlier_delivery = aliased(OutboxDelivery)
    earlier_event = aliased(OutboxEvent)
    return exists().where(
        earlier_delivery.handler == OutboxDelivery.handler,
        earlier_delivery.event_id == earlier_event.id,
        earlier_delivery.status.in_(UNFINISHED),
        earlier_event.aggregate_type == OutboxEvent.aggregate_type,
        earlier_event.aggregate_id == OutboxEvent.aggregate_id,
        earlier_event.id < OutboxEvent.id,
    )


def _earlier_event_unfanned() -> Any:
    """An earlier event of the same aggregate without delivery rows yet (another relay is fanning it out)."""
    earlier_event = aliased(OutboxEvent)
    return exists().where(
        earlier_event.aggregate_type == OutboxEvent.aggregate_type,
        earlier_event.aggregate_id == OutboxEvent.aggregate_id,
        earlier_event.id < OutboxEvent.id,
        earlier_event.fanned_out.is_(False),
    )
