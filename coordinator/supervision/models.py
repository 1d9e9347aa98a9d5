"""Tables of supervision: visits to stations, their check-list findings, and shared cases."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class FindingStatus(StrEnum):
    met = "met"  # the item was in order: nothing to follow up
    open = "open"  # not in order: a follow-up is due
    closed = "closed"  # the follow-up was done


class SupervisionVisit(IdMixin, Base):
    """A supervisor's visit to a station (片区督导)."""

    __tablename__ = "supervision_visits"
    __table_args__ = (Index("ix_supervision_visits_station_id_visited_on", "station_id", "visited_on"),)

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    visited_on: Mapped[date]
    supervisor: Mapped[str] = mapped_column(String(60))  # the name, as signed on the record
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class SupervisionFinding(IdMixin, Base):
    """What a visit found for one item of the check-list, and its follow-up when not in order."""

    __tablename__ = "supervision_findings"
    __table_args__ = (Index("ix_supervision_findings_visit_id", "visit_id"),)

    visit_id: Mapped[int] = mapped_column(ForeignKey("supervision_visits.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(40))  # a code of the check-list
    status: Mapped[FindingStatus] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(String(500))
    follow_up: Mapped[str | None] = mapped_column(String(500))
    due_on: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closing_note: Mapped[str | None] = mapped_column(String(500))


class SharedCases(Base):
    """How many cases an exchange session or a case showcase shared (交流会, 案例展示)."""

    __tablename__ = "event_shared_cases"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    cases: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]
