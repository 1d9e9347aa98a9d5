"""Tables of training: courses, their sessions (each one an event) and enrolments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class EnrolmentStatus(StrEnum):
    invited = "invited"  # by the organizer, waiting for the person's answer
    applied = "applied"  # by the person (or their station), waiting for the organizer's approval
    enrolled = "enrolled"
    declined = "declined"  # the person said no to an invitation
    rejected = "rejected"  # the organizer said no to an application
    withdrawn = "withdrawn"  # left the course after enrolling


class EnrolmentSource(StrEnum):
    invitation = "invitation"
    application = "application"


class Course(IdMixin, Base):
    """A training class, organized by a region or by a station (exactly one of the two)."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("(region_id IS NULL) <> (station_id IS NULL)", name="one_organizer"),
        Index("ix_courses_region_id", "region_id"),
        Index("ix_courses_station_id", "station_id"),
    )

    topic: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    target_classes: Mapped[list[str]] = mapped_column(JSON)  # codes of ``training.classes``
    trainers: Mapped[list[str]] = mapped_column(JSON)  # names, as on the programme
    capacity: Mapped[int] = mapped_column(Integer)
    # Enrolled trainees, kept under the course row's lock: never above ``capacity``.
    enrolled_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class CourseSession(IdMixin, Base):
    """One session of a course: an event on the calendar of its host station (theme ``training``)."""

    __tablename__ = "course_sessions"
    __table_args__ = (UniqueConstraint("event_id"), Index("ix_course_sessions_course_id", "course_id"))

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    online: Mapped[bool] = mapped_column(Boolean, default=False)  # the event's location is then a link


class Enrolment(IdMixin, Base):
    """A person's place in a course, as one of its target classes of trainees."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("course_id", "person_id"),
        Index("ix_enrolments_person_id", "person_id"),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    trainee_class: Mapped[str] = mapped_column(String(40))
    source: Mapped[EnrolmentSource] = mapped_column(String(12))
    status: Mapped[EnrolmentStatus] = mapped_column(String(10))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
