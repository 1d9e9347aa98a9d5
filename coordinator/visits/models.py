"""Tables of home visits: how often each ledger category is visited, the station's check-list,
the residents of a planned itinerary (a ``home_visit`` event), what each visit found, follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, IdMixin


class VisitOutcome(StrEnum):
    visited = "visited"
    not_at_home = "not_at_home"
    refused = "refused"


class VisitPolicy(Base):
    """Residents of ``category`` at the station are visited at least every ``interval_days``."""

    __tablename__ = "visit_policies"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    interval_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class VisitChecklist(Base):
    """The living conditions a visitor checks at this station: ``[{"code", "label"}]``."""

    __tablename__ = "visit_checklists"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    items: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]


class VisitStop(Base):
    """A resident on a planned itinerary, in walking order."""

    __tablename__ = "visit_stops"
    __table_args__ = (Index("ix_visit_stops_resident_id", "resident_id"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class VisitRecord(IdMixin, Base):
    """One visit to one resident: whether they were seen, the check-list, needs found, notes.
    At most one per resident per itinerary (the unique constraint); visits outside an itinerary
    have no event."""

    __tablename__ = "visit_records"
    __table_args__ = (
        UniqueConstraint("event_id", "resident_id"),
        # The last visit of each resident: the due list and coverage read this index only.
        Index("ix_visit_records_resident_id_visited_at", "resident_id", "visited_at"),
        Index("ix_visit_records_station_id_visited_at", "station_id", "visited_at"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    visited_at: Mapped[datetime]
    outcome: Mapped[VisitOutcome] = mapped_column(String(12))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    follow_ups: Mapped[list[FollowUp]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="FollowUp.id"
    )


class FollowUp(IdMixin, Base):
    """An action a visit calls for, with who does it and by when; open until ``done_at``."""

    __tablename__ = "visit_follow_ups"
    __table_args__ = (Index("ix_visit_follow_ups_station_id_due_on", "station_id", "due_on"),)

    visit_record_id: Mapped[int] = mapped_column(ForeignKey("visit_records.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(200))
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    due_on: Mapped[date]
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
