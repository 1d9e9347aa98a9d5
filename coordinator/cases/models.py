"""Tables of case files: the case, its entries (each visit or contact), and who read it when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


class EntryKind(StrEnum):
    visit = "visit"
    contact = "contact"
    service = "service"
    note = "note"


class Case(IdMixin, Base):
    """A social-work case file (个案) for one resident. Assessment and plan are sensitive."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_station_id_status", "station_id", "status"),
        Index("ix_cases_resident_id", "resident_id"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    worker_person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    opened_from_visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit_records.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(100))
    assessment: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CaseStatus] = mapped_column(String(10))
    close_reason: Mapped[str | None] = mapped_column(String(200))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class CaseEntry(IdMixin, Base):
    """One service entry of a case: a visit, a contact, a service given, a note."""

    __tablename__ = "case_entries"
    __table_args__ = (Index("ix_case_entries_case_id_at", "case_id", "at"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[EntryKind] = mapped_column(String(10))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)
    visit_record_id: Mapped[int | None] = mapped_column(ForeignKey("visit_records.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class CaseRead(IdMixin, Base):
    """That a user read a case's notes (the file, or a resident's timeline with its entries)."""

    __tablename__ = "case_reads"
    __table_args__ = (Index("ix_case_reads_station_id_read_at", "station_id", "read_at"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    read_at: Mapped[datetime]
    what: Mapped[str] = mapped_column(String(20))
