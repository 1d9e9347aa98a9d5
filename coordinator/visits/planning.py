"""Proposed itineraries for chosen dates: due residents grouped by village group (组/村) into
rounds in walking order, the most overdue first, each with a pair of visitors chosen by the
matching engine (``matching.engine.solve``): a lead (a social worker or a volunteer trained for
home visits) and a companion. The engine's rules and scores apply as for any event: availability,
other commitments, the monthly maximum, the residents' language, continuity with residents
visited before, and fair load; rounds of one day share their hours, so nobody is in two at once.
Stores nothing: staff adjust the proposal and publish it (``itineraries``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.matching.engine import solve
from coordinator.matching.inputs import candidates, labels
from coordinator.matching.model import Candidate, MatchResult, OpenRole
from coordinator.matching.service import station_weights
from coordinator.people.models import Person
from coordinator.stations.service import get_station
from coordinator.visits.areas import walking_key
from coordinator.visits.due import DueFilters, DueResident, by_area, due_residents
from coordinator.visits.schemas import PlanIn

TRAINED_SKILL = "home_visit"
LEAD, COMPANION = "lead", "companion"


@dataclass
class Round:
    day: date
    starts_at: datetime
    ends_at: datetime
    area: str
    stops: list[DueResident]


@dataclass
class Plan:
    rounds: list[Round]
    result: MatchResult
    names: dict[int, str]
    unplanned: int


def rounds_of(due: list[DueResident], size: int) -> list[tuple[str, list[DueResident]]]:
    """Chunks of at most ``size`` residents of one area, most urgent chunk first; each chunk in
    walking order."""
    chunks: list[tuple[date, str, list[DueResident]]] = []
    for area, residents in by_area(due).items():
        urgent = sorted(residents, key=lambda r: (r.due_on, r.resident_id))
        for start in range(0, len(urgent), size):
            chunk = urgent[start : start + size]
            chunks.append((chunk[0].due_on, area, sorted(chunk, key=lambda r: walking_key(r.address))))
    chunks.sort(key=lambda c: (c[0], c[1]))
    return [(area, stops) for _, area, stops in chunks]


def schedule(
    chunks: list[tuple[str, list[DueResident]]],
    days: list[date],
    *,
    zone: ZoneInfo,
    start: time,
    minutes: int,
    per_day: int,
) -> list[Round]:
    rounds = []
    for index, (area, stops) in enumerate(chunks[: per_day * len(days)]):
        day = days[index // per_day]
        starts_at = datetime.combine(day, start, zone)
        rounds.append(Round(day, starts_at, starts_at + timedelta(minutes=minutes), area, stops))
    return rounds


def open_roles(rounds: list[Round], *, station_id: int, timezone: str) -> list[OpenRole]:
    """Two roles per round; round ``k`` is event ``-(k + 1)``, its lead role ``-(2k + 1)`` and its
    companion ``-(2k + 2)`` (negative: nothing stored has these ids)."""
    roles = []
    for k, round_ in enumerate(rounds):
        for offset, name, skills in ((1, LEAD, frozenset({TRAINED_SKILL})), (2, COMPANION, frozenset[str]())):
            roles.append(
                OpenRole(
                    event_id=-(k + 1),
                    role_id=-(2 * k + offset),
                    name=name,
                    open_places=1,
                    starts_at=round_.starts_at,
                    ends_at=round_.ends_at,
                    timezone=timezone,
                    station_id=station_id,
                    required_skills=skills,
                    resident_languages=frozenset(r.language for r in round_.stops if r.language),
                    resident_ids=frozenset(r.resident_id for r in round_.stops),
                    theme="home_visit",
                )
            )
    return roles


def round_and_role(role_id: int) -> tuple[int, str]:
    index = -role_id - 1
    return index // 2, LEAD if index % 2 == 0 else COMPANION


async def _visitors(session: AsyncSession, station_id: int, people: list[Candidate]) -> list[Candidate]:
    """Social workers are trained for home visits by their profession."""
    workers = set(
        await session.scalars(
            select(Person.id).where(Person.station_id == station_id, Person.is_social_worker.is_(True))
        )
    )
    return [replace(c, skills=c.skills | {TRAINED_SKILL}) if c.person_id in workers else c for c in people]


async def plan_visits(*, session: AsyncSession, clock: Clock, principal: Principal, data: PlanIn) -> Plan:
    principal.require_staff()
    station = await get_station(session=session, principal=principal, station_id=data.station_id)
    zone = ZoneInfo(station.timezone)
    now = clock.now()
    today = now.astimezone(zone).date()
    days = sorted(set(data.dates))
    if days[0] < today:
        raise Invalid(
            "不能为过去的日期安排走访", "Dates must not be in the past", code="date_in_past", field="dates"
        )
    filters = DueFilters(within_days=(days[-1] - today).days)
    due = [
        r
        for r in await due_residents(session, [station], now=now, filters=filters)
        if r.planned_event_id is None
    ]
    people, names = await candidates(
        session,
        station=station,
        events=[],
        now=now,
        last_start=datetime.combine(days[-1], time(23, 59), zone),
    )
    people = await _visitors(session, station.id, people)
    per_day = data.itineraries_per_day or max(1, len(people) // 2)
    chunks = rounds_of(due, data.stops_per_itinerary)
    rounds = schedule(
        chunks, days, zone=zone, start=time.fromisoformat(data.start), minutes=data.minutes, per_day=per_day
    )
    weights, _ = await station_weights(session, station.id)
    roles = open_roles(rounds, station_id=station.id, timezone=station.timezone)
    result = solve(roles, people, weights, now=now, labels=await labels(session, station.id))
    planned = sum(len(r.stops) for r in rounds)
    return Plan(rounds, result, names, len(due) - planned)
