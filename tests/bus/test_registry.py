from __future__ import annotations

import pytest

from coordinator.bus.registry import DeliveredEvent, HandlerContext, Registry
from coordinator.domain_events import DomainEventType


async def handle(ctx: HandlerContext, event: DeliveredEvent) -> None:
    return None


async def other(ctx: HandlerContext, event: DeliveredEvent) -> None:
    return None


def test_subscribers_are_found_by_event_type_in_name_order() -> None:
    registry = Registry()
    registry.subscribe(DomainEventType.event_published, DomainEventType.event_cancelled, name="stats.rollup")(
        handle
    )
    registry.subscribe(DomainEventType.event_cancelled, name="notify.cancel")(other)

    assert [s.name for s in registry.subscribers(DomainEventType.event_cancelled)] == [
        "notify.cancel",
        "stats.rollup",
    ]
    assert [s.name for s in registry.subscribers(DomainEventType.event_published)] == ["stats.rollup"]
    assert registry.subscribers("PersonCreated") == []
    assert registry.names == ["notify.cancel", "stats.rollup"]


def test_two_handlers_may_not_share_a_name() -> None:
    registry = Registry()
    registry.subscribe(DomainEventType.event_published, name="notify.plan")(handle)
    registry.subscribe(DomainEventType.event_published, name="notify.plan")(
        handle
    )  # re-import of the same module: fine

    with pytest.raises(ValueError, match="already registered"):
        registry.subscribe(DomainEventType.event_published, name="notify.plan")(other)


def test_a_handler_must_subscribe_to_something() -> None:
    with pytest.raises(ValueError, match="no event type"):
        Registry().subscribe(name="idle")
