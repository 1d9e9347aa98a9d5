"""Who listens to which domain events: the application's registry is built in one place,
``coordinator.composition.build_registry``. A handler's ``name`` is stored on each delivery row,
so it must stay stable across releases (renaming a handler starts it afresh on new events).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.clock import Clock
from coordinator.domain_events import DomainEventType
from coordinator.settings import Settings


@dataclass(frozen=True)
class DeliveredEvent:
    """A domain event as a handler sees it: plain values, never ORM objects."""

    id: int
    event_type: DomainEventType
    aggregate_type: str
    aggregate_id: int
    station_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may use. ``session`` is a transaction owned by the relay: flush, never commit.

    The relay marks the delivery done in that same transaction, so the handler's writes and
    "done" commit together; a crash before the commit re-runs the handler (at least once)."""

    session: AsyncSession
    clock: Clock
    settings: Settings


Handler = Callable[[HandlerContext, DeliveredEvent], Awaitable[None]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Subscription:
    name: str
    event_types: frozenset[DomainEventType]
    handler: Handler


class Registry:
    """Handlers by name, and the handlers subscribed to each event type."""

    def __init__(self) -> None:
        self._by_name: dict[str, Subscription] = {}

    def subscribe(self, *event_types: DomainEventType, name: str) -> Callable[[H], H]:
        if not event_types:
            raise ValueError(f"handler {name!r} subscribes to no event type")

        def register(handler: H) -> H:
            self.add(Subscription(name=name, event_types=frozenset(event_types), handler=handler))
            return handler

        return register

    def add(self, subscription: Subscription) -> None:
        existing = self._by_name.get(subscription.name)
        if existing is not None and existing.handler is not subscription.handler:
            # Two handlers with one name would share delivery rows: one of them would never run.
            raise ValueError(f"a handler named {subscription.name!r} is already registered")
        self._by_name[subscription.name] = subscription

    def subscribers(self, event_type: str) -> list[Subscription]:
        """The handlers of ``event_type``, in name order (stable, so fan-out is deterministic)."""
        return sorted(
            (s for s in self._by_name.values() if event_type in s.event_types), key=lambda s: s.name
        )

    def get(self, name: str) -> Subscription | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __iter__(self) -> Iterator[Subscription]:
        return iter(sorted(self._by_name.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._by_name)
