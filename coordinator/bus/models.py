from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class OutboxEvent(IdMixin, Base):
    """A domain event, written in the same transaction as the change that caused it.

    The id orders events; the relay delivers them per aggregate in that order."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id", "id"),
        Index("ix_outbox_events_unfanned", "fanned_out", "id"),
    )

    event_type: Mapped[str] = mapped_column(String(60))
    aggregate_type: Mapped[str] = mapped_column(String(40))
    aggregate_id: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
    # Set once a delivery row exists for every handler subscribed to this event type.
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxDelivery(Base):
    """One handler's progress on one event: retried with backoff, independent of other handlers."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="CASCADE"), primary_key=True
    )
    handler: Mapped[str] = mapped_column(String(80), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | running | done | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
