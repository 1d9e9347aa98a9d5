"""Roll-up tables: what the bus handlers keep so dashboards need not scan attendance.

- Per event (``stats_events``, ``stats_event_people``, ``stats_event_residents``): what the roll-ups
  last counted for one event, the "before" a recomputation is compared with.
- Cells (``stats_cells``, ``stats_cell_members``): additive counters and exact distinct counts per
  (scope, period, theme). ``scope``: a station id, minus a region id, or 0 for every station.
No foreign keys: derived data never blocks a write to what it summarizes; ``rebuild`` recomputes it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base

ALL_STATIONS = 0  # the scope of cells over every station
ALL_THEMES = ""  # the theme of cells summing every theme


def region_scope(region_id: int) -> int:
    """The scope of a region's cells: negative, so never a station's."""
    return -region_id


# Member kinds of a cell.
MEMBER_PERSON = "p"
MEMBER_PARTY = "m"  # a person counted as a Party member
MEMBER_RESIDENT = "r"


class EventRollup(Base):
    """What the roll-ups last counted for one event (zeros when the event does not count)."""

    __tablename__ = "stats_events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    station_id: Mapped[int] = mapped_column(Integer)
    # The station's township when counted: the event also counts in every region above it.
    region_id: Mapped[int | None] = mapped_column(Integer)
    theme: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(Integer)
    local_date: Mapped[date]
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM in the station's zone
    year: Mapped[str] = mapped_column(String(4))
    # Published or completed: drafts and cancelled events never count.
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    person_times: Mapped[int] = mapped_column(Integer, default=0)
    party_member_person_times: Mapped[int] = mapped_column(Integer, default=0)
    social_worker_person_times: Mapped[int] = mapped_column(Integer, default=0)
    volunteer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    no_shows: Mapped[int] = mapped_column(Integer, default=0)
    residents_served_person_times: Mapped[int] = mapped_column(Integer, default=0)


class EventPersonRollup(Base):
    """A person the roll-ups counted as attending an event, with the flags they were counted with
    (a changed flag makes ``PersonUpdated`` recount that person's events)."""

    __tablename__ = "stats_event_people"
    __table_args__ = (Index("ix_stats_event_people_person_id", "person_id"),)

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    minutes: Mapped[int] = mapped_column(Integer)
    is_party_member: Mapped[bool] = mapped_column(Boolean)
    is_social_worker: Mapped[bool] = mapped_column(Boolean)


class EventResidentRollup(Base):
    """A named resident the roll-ups counted as served by an event."""

    __tablename__ = "stats_event_residents"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    resident_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class StatsCell(Base):
    """Counters of one (scope, period, theme): sums over its events and exact distinct counts."""

    __tablename__ = "stats_cells"
    # A dashboard reads one period's cells of many scopes (every township of a province by month).
    __table_args__ = (Index("ix_stats_cells_period_theme", "period", "theme"),)

    scope: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM" or "YYYY", station's zone
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)  # a theme code, "" for all
    events: Mapped[int] = mapped_column(Integer, default=0)
    person_times: Mapped[int] = mapped_column(Integer, default=0)
    party_member_person_times: Mapped[int] = mapped_column(Integer, default=0)
    social_worker_person_times: Mapped[int] = mapped_column(Integer, default=0)
    volunteer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    no_shows: Mapped[int] = mapped_column(Integer, default=0)
    residents_served_person_times: Mapped[int] = mapped_column(Integer, default=0)
    distinct_people: Mapped[int] = mapped_column(Integer, default=0)
    distinct_party_members: Mapped[int] = mapped_column(Integer, default=0)
    distinct_residents_served: Mapped[int] = mapped_column(Integer, default=0)


class StatsCellMember(Base):
    """A person or resident of a cell and in how many of the cell's events they appear."""

    __tablename__ = "stats_cell_members"

    scope: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurrences: Mapped[int] = mapped_column(Integer)
