"""The matching engine's inputs and outputs: plain frozen values, no database, no I/O.

The service that loads them from the database fills these from people, events and sign-ups;
the engine reads nothing else. Instants are UTC-aware ``datetime``s; weekly availability is in
the station's local wall-clock time (the role's ``timezone``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property
from zoneinfo import ZoneInfo

YearMonth = tuple[int, int]
# (weekday 0 = Monday … 6 = Sunday, start, end) in local time; an end of 00:00 means midnight
# at the end of that day, an end before the start runs past midnight into the next day.
Window = tuple[int, time, time]
# [start, end) in UTC.
Interval = tuple[datetime, datetime]
# A skill or language code → (Chinese label, English label), for the reasons' text.
Labels = Mapping[str, tuple[str, str]]


def label(code: str, labels: Labels | None) -> tuple[str, str]:
    """(Chinese, English) names of a skill or language code; the code itself when unknown."""
    return labels.get(code, (code, code)) if labels else (code, code)


def joined_labels(codes: frozenset[str], labels: Labels | None) -> tuple[str, str]:
    names = [label(code, labels) for code in sorted(codes)]
    return "、".join(zh for zh, _ in names), ", ".join(en for _, en in names)


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """Someone who could be proposed, with what the engine needs to know about them."""

    person_id: int
    contact_consent: bool
    station_id: int | None = None
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    is_party_member: bool = False
    availability: tuple[Window, ...] = ()
    busy: tuple[Interval, ...] = ()
    # Events where the person already holds or waits for a place: never proposed there again.
    signed_up_event_ids: frozenset[int] = frozenset()
    # Events already counted in the calendar month that contains ``now`` (station time) …
    events_this_month: int = 0
    # … and in any other month, e.g. confirmed sign-ups next month: months count separately.
    events_in_other_months: Mapping[YearMonth, int] = field(default_factory=dict, hash=False)
    max_events_per_month: int | None = None
    last_asked_at: datetime | None = None
    served_this_quarter: int = 0
    attendance_rate: float | None = None
    visited_resident_ids: frozenset[int] = frozenset()

    def events_in_month(self, month: YearMonth, *, current: YearMonth) -> int:
        if month == current:
            return self.events_this_month
        return self.events_in_other_months.get(month, 0)


@dataclass(frozen=True, kw_only=True)
class OpenRole:
    """One role of one event with places still to fill."""

    event_id: int
    role_id: int
    name: str
    open_places: int
    starts_at: datetime
    ends_at: datetime
    timezone: str = "Asia/Shanghai"
    station_id: int | None = None
    required_skills: frozenset[str] = frozenset()
    # Nice to have: each one the person brings adds to the score (the theme's defaults).
    preferred_skills: frozenset[str] = frozenset()
    required_languages: frozenset[str] = frozenset()
    party_members_only: bool = False
    resident_languages: frozenset[str] = frozenset()
    resident_ids: frozenset[int] = frozenset()
    theme: str = ""
    # Party members wanted at the whole event (Party-building drives); soft. Roles of one event
    # normally repeat the event's value; the largest one counts.
    party_member_quota: int = 0

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("OpenRole times must be timezone-aware")
        if self.ends_at <= self.starts_at:
            raise ValueError("OpenRole must end after it starts")
        if self.open_places < 0:
            raise ValueError("open_places must not be negative")

    @cached_property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(ZoneInfo(self.timezone))

    @cached_property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(ZoneInfo(self.timezone))

    @property
    def month(self) -> YearMonth:
        """The calendar month (station time) the role's event counts against."""
        return (self.local_start.year, self.local_start.month)

    def month_of(self, instant: datetime) -> YearMonth:
        local = instant.astimezone(ZoneInfo(self.timezone))
        return (local.year, local.month)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and start < self.ends_at


@dataclass(frozen=True)
class Weights:
    """How much each preference counts; each term is a fraction in [0, 1] times its weight.

    ``filled_place`` is earned by every proposal, so filling a place always beats leaving it
    empty and the preferences decide who fills it. Stations may tune the rest.
    """

    filled_place: float = 10.0
    language: float = 3.0
    extra_skills: float = 1.5
    fairness_recent: float = 1.0
    fairness_load: float = 2.0
    party_quota: float = 4.0
    reliability: float = 2.0
    continuity: float = 3.0


@dataclass(frozen=True)
class Reason:
    code: str
    text_zh: str
    text_en: str


@dataclass(frozen=True)
class Proposal:
    event_id: int
    role_id: int
    person_id: int
    score: float
    reasons: list[Reason]


@dataclass(frozen=True)
class MatchResult:
    proposals: list[Proposal]
    # role_id → places left open (0 when the role is full).
    unfilled: dict[int, int]
    # Sum of the proposals' scores plus the Party-member quota term.
    objective: float
    # An upper bound on the objective of any feasible matching; equal to ``objective`` (within
    # the solver's tolerance) when the result is proven optimal. None for the greedy baseline.
    bound: float | None = None
