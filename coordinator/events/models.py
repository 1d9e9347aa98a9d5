"""Tables of the calendar: custom themes, series, events, their roles and sign-ups."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, IdMixin


class EventStatus(StrEnum):
    draft = "draft"
    published = "published"
    cancelled = "cancelled"
    completed = "completed"


class SignupStatus(StrEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    invited = "invited"
    cancelled = "cancelled"
    declined = "declined"


class SignupSource(StrEnum):
    self = "self"
    organizer = "organizer"
    matcher = "matcher"


# A sign-up in one of these holds (or waits for) a place: at most one per person per event.
LIVE_SIGNUP_STATUSES = (SignupStatus.confirmed, SignupStatus.waitlisted, SignupStatus.invited)
_LIVE_SQL = "status IN ('confirmed', 'waitlisted', 'invited')"
_CURRENT_ROLE_SQL = "removed_at IS NULL"


class CustomTheme(IdMixin, Base):
    """A station's own kind of activity, next to the built-in themes (see ``events.themes``)."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("station_id", "code"),)

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(100))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # [{"name", "count", "skills", "languages", "party_members_only"}]
    roles: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reminder_offsets: Mapped[list[str]] = mapped_column(JSON)  # ISO 8601 durations, e.g. "P1D"
    target_categories: Mapped[list[str]] = mapped_column(JSON)
    color: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime]


class EventSeries(IdMixin, Base):
    """A recurring activity: an RRULE or a festival rule, materialized as events up to a horizon."""

    __tablename__ = "event_series"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    theme: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    rrule: Mapped[str | None] = mapped_column(Text)  # RFC 5545 RRULE, local time of the station
    festival: Mapped[str | None] = mapped_column(String(30))  # a code of ``events.festivals``
    # First occurrence (RRULE) or earliest date (festival); local wall-clock start and length.
    starts_on: Mapped[date]
    until: Mapped[date | None]
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" in the station's zone
    duration_minutes: Mapped[int] = mapped_column(Integer)
    roles: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reminder_offsets: Mapped[list[str]] = mapped_column(JSON)
    target_categories: Mapped[list[str]] = mapped_column(JSON)
    publish: Mapped[bool] = mapped_column(Boolean, default=False)  # publish occurrences on creation
    materialized_until: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Event(IdMixin, Base):
    """One activity on the calendar; ``capacity`` is never below the sum of its role counts."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_station_id_starts_at", "station_id", "starts_at"),
        # A series materializes each occurrence once, however many ticks run.
        UniqueConstraint("series_id", "occurrence_key"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("event_series.id", ondelete="SET NULL"))
    occurrence_key: Mapped[str | None] = mapped_column(String(20))  # local ISO date of the occurrence
    # Edited on its own: later edits of the series leave it alone.
    detached: Mapped[bool] = mapped_column(Boolean, default=False)
    theme: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    status: Mapped[EventStatus] = mapped_column(String(12), default=EventStatus.draft)
    reminder_offsets: Mapped[list[str]] = mapped_column(JSON)
    target_categories: Mapped[list[str]] = mapped_column(JSON)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    # Bumped on every change people see; the iCalendar SEQUENCE.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    # The current roles: a removed role stays in the table (its sign-ups are history) but is no
    # longer one of the event's roles anywhere.
    roles: Mapped[list[EventRole]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        primaryjoin="and_(Event.id == EventRole.event_id, EventRole.removed_at.is_(None))",
        order_by="EventRole.position",
    )


class EventRole(IdMixin, Base):
    """A role of an event and its places. Sign-ups lock this row to take a place.

    A removed role (``removed_at`` set, see ``events.roles``) is kept for the sign-ups that were
    cancelled, declined or expired in it: stats, the people's history and their answers name it.
    Nothing but that history reads it; its name may be used again by a new role of the event."""

    __tablename__ = "event_roles"
    __table_args__ = (
        Index(
            "uq_event_roles_current_name",
            "event_id",
            "name",
            unique=True,
            sqlite_where=text(_CURRENT_ROLE_SQL),
            postgresql_where=text(_CURRENT_ROLE_SQL),
        ),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(60))
    count: Mapped[int] = mapped_column(Integer)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    party_members_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # The role's sign-ups by status, kept under the role row's lock by ``signups.places.set_status``:
    # places held are confirmed plus invited, and a new arrival waits at position waitlisted + 1.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    invited_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The next waitlist arrival number: positions are ranks among these, so they stay stable.
    next_waitlist_seq: Mapped[int] = mapped_column(Integer, default=1)
    removed_at: Mapped[datetime | None]


class Signup(IdMixin, Base):
    """A person's place in an event role."""

    __tablename__ = "signups"
    __table_args__ = (
        # One live sign-up per person per event (the database guarantees it on both dialects).
        Index(
            "uq_signups_live_person",
            "event_id",
            "person_id",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
        Index("ix_signups_role_status_seq", "role_id", "status", "waitlist_seq"),
        Index("ix_signups_person_status", "person_id", "status"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    role_id: Mapped[int] = mapped_column(ForeignKey("event_roles.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[SignupStatus] = mapped_column(String(12))
    source: Mapped[SignupSource] = mapped_column(String(12))
    waitlist_seq: Mapped[int | None] = mapped_column(Integer)
    invitation_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
