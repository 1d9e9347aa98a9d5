"""Read the engine's inputs from the database (reads only): open roles of some events, the people.

* open places of a role: its count − confirmed − invited sign-ups (an invitation holds a place);
* busy intervals and monthly counts: confirmed and invited sign-ups at events not cancelled;
* last asked: the latest sign-up or invitation created for the person, whatever became of it;
* served this quarter: confirmed and invited sign-ups at events starting in this calendar quarter;
* reliability: attended ÷ recorded attendance rows (None without any: newcomers are not punished);
* continuity: residents named in the service records of events the person attended;
* residents to serve: the station's active residents in the event's target categories."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance, ServiceRecord
from coordinator.events.models import LIVE_SIGNUP_STATUSES, Event, EventStatus, Signup, SignupStatus
from coordinator.events.signups.rules import free_places
from coordinator.matching.model import Candidate, Labels, OpenRole, Window, YearMonth
from coordinator.people.models import Person, Resident, ResidentCategoryRow
from coordinator.people.vocabularies import load_vocabulary
from coordinator.stations.models import Station

# Sign-ups that hold a person's time and count against their monthly maximum.
HOLDING_STATUSES = (SignupStatus.confirmed, SignupStatus.invited)
# Nobody said when they are free: no restriction, rather than never.
ANY_TIME: tuple[Window, ...] = tuple((day, time(0), time(0)) for day in range(7))
PARTY_DRIVE_THEME = "party_volunteer_drive"
# Skills that help at each built-in theme beyond what its roles require (the "extra skills" term).
HELPFUL_SKILLS: dict[str, frozenset[str]] = {
    "birthday_party": frozenset({"photography", "childcare", "singing_dancing", "cooking"}),
    "festival_visit": frozenset({"elderly_care", "translation", "cooking", "first_aid"}),
    "party_volunteer_drive": frozenset({"publicity", "first_aid", "repair", "haircut"}),
    "home_visit": frozenset({"counseling", "elderly_care", "medical", "legal_aid", "first_aid"}),
    "heritage": frozenset({"lusheng", "embroidery", "batik", "singing_dancing"}),
}


@dataclass
class Inputs:
    station: Station
    events: dict[int, Event]
    roles: list[OpenRole]
    candidates: list[Candidate]
    names: dict[int, str]
    labels: Labels
    # role id → open places before any proposal
    open_places: dict[int, int] = field(default_factory=dict)


def zone_of(station: Station) -> ZoneInfo:
    return ZoneInfo(station.timezone)


def _month_start(instant: datetime, zone: ZoneInfo) -> datetime:
    local = instant.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _quarter_start(instant: datetime, zone: ZoneInfo) -> datetime:
    start = _month_start(instant, zone)
    return start.replace(month=3 * ((start.month - 1) // 3) + 1)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


async def load_events(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, Event]:
    rows = await session.scalars(
        select(Event).where(Event.id.in_(event_ids)).options(selectinload(Event.roles)).order_by(Event.id)
    )
    return {event.id: event for event in rows}


async def station_events(
    session: AsyncSession, *, station_id: int, start: datetime, end: datetime, now: datetime
) -> dict[int, Event]:
    """Published events of the station starting in [start, end) and not yet started."""
    rows = await session.scalars(
        select(Event)
        .where(
            Event.station_id == station_id,
            Event.status == EventStatus.published,
            Event.starts_at >= max(start, now),
            Event.starts_at < end,
        )
        .options(selectinload(Event.roles))
        .order_by(Event.starts_at, Event.id)
    )
    return {event.id: event for event in rows}


async def _residents_by_category(session: AsyncSession, station_id: int) -> dict[str, list[Resident]]:
    rows = await session.execute(
        select(ResidentCategoryRow.category, Resident)
        .join(Resident, Resident.id == ResidentCategoryRow.resident_id)
        .where(Resident.station_id == station_id, Resident.is_active.is_(True))
    )
    out: dict[str, list[Resident]] = defaultdict(list)
    for category, resident in rows:
        out[category].append(resident)
    return out


async def _party_members_held(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(
        select(Signup.event_id, func.count())
        .join(Person, Person.id == Signup.person_id)
        .where(
            Signup.event_id.in_(event_ids),
            Signup.status.in_(HOLDING_STATUSES),
            Person.is_party_member.is_(True),
        )
        .group_by(Signup.event_id)
    )
    return {event_id: int(count) for event_id, count in rows}


async def open_roles(
    session: AsyncSession, *, station: Station, events: Sequence[Event], party_member_share: float
) -> tuple[list[OpenRole], dict[int, int]]:
    """Every role of ``events`` with its open places (roles already full included, with 0)."""
    event_ids = [e.id for e in events]
    party_held = await _party_members_held(session, event_ids)
    residents = await _residents_by_category(session, station.id)
    roles: list[OpenRole] = []
    places: dict[int, int] = {}
    for event in events:
        served = {r.id: r for category in event.target_categories for r in residents.get(category, [])}
        quota = 0
        if event.theme == PARTY_DRIVE_THEME:
            wanted = math.ceil(party_member_share * sum(r.count for r in event.roles))
            quota = max(0, wanted - party_held.get(event.id, 0))
        for role in event.roles:
            places[role.id] = max(0, free_places(role))
            required = frozenset(role.skills)
            roles.append(
                OpenRole(
                    event_id=event.id,
                    role_id=role.id,
                    name=role.name,
                    open_places=places[role.id],
                    starts_at=event.starts_at,
                    ends_at=event.ends_at,
                    timezone=station.timezone,
                    station_id=station.id,
                    required_skills=required,
                    preferred_skills=HELPFUL_SKILLS.get(event.theme, frozenset()) - required,
                    required_languages=frozenset(role.languages),
                    party_members_only=role.party_members_only,
                    resident_languages=frozenset(r.language for r in served.values() if r.language),
                    resident_ids=frozenset(served),
                    theme=event.theme,
                    party_member_quota=quota,
                )
            )
    return roles, places


def _windows(availability: list[dict[str, object]]) -> tuple[Window, ...]:
    windows: list[Window] = []
    for window in availability:
        start, end = str(window["start"]), str(window["end"])
        windows.append((int(str(window["weekday"])), time.fromisoformat(start), time.fromisoformat(end)))
    return tuple(windows) or ANY_TIME


def _may_be_contacted(person: Person) -> bool:
    return (
        person.consent_sms
        or (person.consent_wechat and bool(person.wechat_openid))
        or (person.consent_email and bool(person.email))
    )


@dataclass
class _History:
    busy: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=lambda: defaultdict(list))
    months: dict[int, dict[YearMonth, int]] = field(default_factory=lambda: defaultdict(dict))
    quarter: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    live_at: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    last_asked: dict[int, datetime] = field(default_factory=dict)
    attendance: dict[int, float] = field(default_factory=dict)
    visited: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))


async def _history(
    session: AsyncSession,
    *,
    station: Station,
    events: Sequence[Event],
    now: datetime,
    last_start: datetime | None,
) -> _History:
    zone = zone_of(station)
    history = _History()
    people = select(Person.id).where(Person.station_id == station.id)
    quarter_start = _quarter_start(now, zone)
    until = _next_month(_month_start(max([e.starts_at for e in events] + [last_start or now]), zone))
    holding = await session.execute(
        select(Signup.person_id, Event.starts_at, Event.ends_at)
        .join(Event, Event.id == Signup.event_id)
        .where(
            Signup.person_id.in_(people),
            Signup.status.in_(HOLDING_STATUSES),
            Event.status != EventStatus.cancelled,
            Event.ends_at > quarter_start,
            Event.starts_at < until,
        )
    )
    for person_id, starts_at, ends_at in holding:
        history.busy[person_id].append((starts_at, ends_at))
        local = starts_at.astimezone(zone)
        month = (local.year, local.month)
        history.months[person_id][month] = history.months[person_id].get(month, 0) + 1
        if starts_at >= quarter_start:
            history.quarter[person_id] += 1
    live = await session.execute(
        select(Signup.person_id, Signup.event_id).where(
            Signup.event_id.in_([e.id for e in events]), Signup.status.in_(LIVE_SIGNUP_STATUSES)
        )
    )
    for person_id, event_id in live:
        history.live_at[person_id].add(event_id)
    asked = await session.execute(
        select(Signup.person_id, func.max(Signup.created_at))
        .where(Signup.person_id.in_(people))
        .group_by(Signup.person_id)
    )
    history.last_asked = {person_id: at for person_id, at in asked}
    attended = func.sum(case((Attendance.status.in_(ATTENDED_STATUSES), 1), else_=0))
    rates = await session.execute(
        select(Attendance.person_id, attended, func.count())
        .where(Attendance.person_id.in_(people), Attendance.approved.is_(True))
        .group_by(Attendance.person_id)
    )
    history.attendance = {person_id: int(hits or 0) / total for person_id, hits, total in rates if total}
    visits = await session.execute(
        select(Attendance.person_id, ServiceRecord.resident_id)
        .join(ServiceRecord, ServiceRecord.event_id == Attendance.event_id)
        .where(Attendance.person_id.in_(people), Attendance.status.in_(ATTENDED_STATUSES))
    )
    for person_id, resident_id in visits:
        history.visited[person_id].add(resident_id)
    return history


async def candidates(
    session: AsyncSession,
    *,
    station: Station,
    events: Sequence[Event],
    now: datetime,
    last_start: datetime | None = None,
) -> tuple[list[Candidate], dict[int, str]]:
    """The station's active people as the engine sees them, and their names. ``last_start``: the
    last start of roles not stored as events yet (home-visit planning), to count months up to."""
    people = list(
        await session.scalars(
            select(Person)
            .where(Person.station_id == station.id, Person.is_active.is_(True))
            .options(selectinload(Person.terms))
            .order_by(Person.id)
        )
    )
    history = await _history(session, station=station, events=events, now=now, last_start=last_start)
    current = now.astimezone(zone_of(station))
    this_month = (current.year, current.month)
    out = []
    for person in people:
        months = history.months.get(person.id, {})
        out.append(
            Candidate(
                person_id=person.id,
                contact_consent=_may_be_contacted(person),
                station_id=person.station_id,
                skills=frozenset(person.codes("skill")),
                languages=frozenset(person.codes("language")),
                is_party_member=person.is_party_member,
                availability=_windows(person.availability),
                busy=tuple(history.busy.get(person.id, ())),
                signed_up_event_ids=frozenset(history.live_at.get(person.id, ())),
                events_this_month=months.get(this_month, 0),
                events_in_other_months={m: n for m, n in months.items() if m != this_month},
                max_events_per_month=person.max_events_per_month,
                last_asked_at=history.last_asked.get(person.id),
                served_this_quarter=history.quarter.get(person.id, 0),
                attendance_rate=history.attendance.get(person.id),
                visited_resident_ids=frozenset(history.visited.get(person.id, ())),
            )
        )
    return out, {p.id: p.name for p in people}


async def labels(session: AsyncSession, station_id: int) -> Labels:
    vocabulary = await load_vocabulary(session=session, station_id=station_id)
    return {
        term.code: (term.label_zh, term.label_en)
        for terms in (vocabulary.skills, vocabulary.languages)
        for term in terms.terms.values()
    }


async def load_inputs(
    session: AsyncSession,
    *,
    station: Station,
    events: Sequence[Event],
    now: datetime,
    party_member_share: float,
) -> Inputs:
    roles, places = await open_roles(
        session, station=station, events=events, party_member_share=party_member_share
    )
    people, names = await candidates(session, station=station, events=events, now=now)
    return Inputs(
        station=station,
        events={e.id: e for e in events},
        roles=roles,
        candidates=people,
        names=names,
        labels=await labels(session, station.id),
        open_places=places,
    )
