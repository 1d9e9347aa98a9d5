"""Tables of attendance: who was there, how it was recorded, its corrections, and residents served."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class AttendanceStatus(StrEnum):
    present = "present"
    late = "late"
    absent = "absent"
    no_show = "no_show"  # confirmed, never recorded; set when the event is completed


# The statuses that count as having been there (a person-time, hours).
ATTENDED_STATUSES = (AttendanceStatus.present, AttendanceStatus.late)


class AttendanceMethod(StrEnum):
    qr = "qr"
    roster = "roster"
    offline_batch = "offline_batch"
    self_report = "self_report"


class Attendance(IdMixin, Base):
    """That a person was (or was not) at an event. One row per person per event (invariant 2):
    the unique constraint holds it, and every writer inserts with ON CONFLICT DO NOTHING and then
    locks the row, so concurrent scans change one row."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        Index("ix_attendance_person_id_event_id", "person_id", "event_id"),
        Index("ix_attendance_station_id_event_id", "station_id", "event_id"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # The event's station, copied so that station statistics need no join.
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    status: Mapped[AttendanceStatus] = mapped_column(String(10))
    # How the row was first recorded; None for no-shows marked when the event was completed.
    method: Mapped[AttendanceMethod | None] = mapped_column(String(16))
    # Came without a confirmed sign-up, let in by an organizer.
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    # Volunteer time in whole minutes: computed from the times, capped at the event's length,
    # unless staff set it (``minutes_overridden``), which is how an organizer approves more.
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    minutes_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    # Self-reports wait for staff; every other method is approved as it is recorded.
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The offline record that created the row, if it came in a batch.
    client_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AttendanceAudit(IdMixin, Base):
    """One changed field of an attendance row: who changed it, when, from what to what."""

    __tablename__ = "attendance_audit"
    __table_args__ = (Index("ix_attendance_audit_attendance_id_id", "attendance_id", "id"),)

    attendance_id: Mapped[int] = mapped_column(ForeignKey("attendance.id", ondelete="CASCADE"))
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime]
    field: Mapped[str] = mapped_column(String(30))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(200))


class OfflineRecord(IdMixin, Base):
    """A client id of an offline batch record already applied: replaying it changes nothing.

    The unique constraint, claimed with ON CONFLICT DO NOTHING, decides which of two concurrent
    uploads of one record applies it."""

    __tablename__ = "attendance_offline_records"
    __table_args__ = (UniqueConstraint("client_id"),)

    client_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(12))
    received_at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ServiceRecord(IdMixin, Base):
    """A named ledger resident served by an event; each resident counts once per event."""

    __tablename__ = "service_records"
    __table_args__ = (
        UniqueConstraint("event_id", "resident_id"),
        Index("ix_service_records_resident_id_event_id", "resident_id", "event_id"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ServiceHeadcount(Base):
    """The anonymous number of residents an event served (on top of the named ones)."""

    __tablename__ = "service_headcounts"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    headcount: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]
