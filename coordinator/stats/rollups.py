"""Keeping the roll-up tables (see ``stats.models``) equal to a recount, event by event.

``refresh_event`` is the one incremental step: it recomputes an event's contribution from the
source rows (its status, station, date and theme; its approved attended rows; the residents it
served), compares it with what the roll-ups last counted for it, and applies the difference to the
cells, so a repeated, late or out-of-order delivery finds nothing to do. Its locks and its write
order: docs/concurrency.md (invariant 5)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import ATTENDED_STATUSES, Attendance, ServiceHeadcount, ServiceRecord
from coordinator.attendance.recording import insert_for
from coordinator.bus.registry import DeliveredEvent, HandlerContext
from coordinator.domain_events import DomainEventType
from coordinator.events.models import Event
from coordinator.people.models import Person
from coordinator.regions.closure import ancestors
from coordinator.stations.models import Station
from coordinator.stats.models import (
    ALL_STATIONS,
    ALL_THEMES,
    MEMBER_PARTY,
    MEMBER_PERSON,
    MEMBER_RESIDENT,
    EventPersonRollup,
    EventResidentRollup,
    EventRollup,
    StatsCell,
    StatsCellMember,
    region_scope,
)
from coordinator.stats.periods import local_date, month_of, year_of
from coordinator.stats.queries import COUNTED_EVENT_STATUSES, MISSED_STATUSES

Cell = tuple[int, str, str]  # (scope, period, theme)
COUNTERS = (
    "person_times",
    "party_member_person_times",
    "social_worker_person_times",
    "volunteer_minutes",
    "no_shows",
    "residents_served_person_times",
)
DISTINCT_COUNTER = {
    MEMBER_PERSON: "distinct_people",
    MEMBER_PARTY: "distinct_party_members",
    MEMBER_RESIDENT: "distinct_residents_served",
}


@dataclass(frozen=True)
class Attendee:
    minutes: int
    is_party_member: bool
    is_social_worker: bool


@dataclass
class EventState:
    """One event as the roll-ups count it."""

    station_id: int
    theme: str
    organization_id: int | None
    day: date
    counted: bool
    region_id: int | None = None  # the station's township
    regions: tuple[int, ...] = ()  # the township and every region above it
    people: dict[int, Attendee] = field(default_factory=dict)
    residents: set[int] = field(default_factory=set)
    headcount: int = 0
    no_shows: int = 0

    def counters(self) -> dict[str, int]:
        if not self.counted:
            return dict.fromkeys(COUNTERS, 0)
        people = self.people.values()
        return {
            "person_times": len(self.people),
            "party_member_person_times": sum(p.is_party_member for p in people),
            "social_worker_person_times": sum(p.is_social_worker for p in people),
            "volunteer_minutes": sum(p.minutes for p in people),
            "no_shows": self.no_shows,
            "residents_served_person_times": len(self.residents) + self.headcount,
        }

    def cells(self) -> list[Cell]:
        """The cells an event counts in: its station, each region above it and all stations, by
        month and by year, for its theme and for all themes."""
        if not self.counted:
            return []
        scopes = (self.station_id, *(region_scope(r) for r in self.regions), ALL_STATIONS)
        return [
            (scope, period, theme)
            for scope in scopes
            for period in (month_of(self.day), year_of(self.day))
            for theme in (self.theme, ALL_THEMES)
        ]

    def members(self) -> dict[str, set[int]]:
        if not self.counted:
            return {MEMBER_PERSON: set(), MEMBER_PARTY: set(), MEMBER_RESIDENT: set()}
        return {
            MEMBER_PERSON: set(self.people),
            MEMBER_PARTY: {pid for pid, p in self.people.items() if p.is_party_member},
            MEMBER_RESIDENT: set(self.residents),
        }


async def source_state(session: AsyncSession, event_id: int) -> EventState | None:
    """The event as the source rows say now; None if it no longer exists."""
    row = (
        await session.execute(
            select(Event, Station.timezone, Station.region_id)
            .join(Station, Station.id == Event.station_id)
            .where(Event.id == event_id)
            .with_for_update(read=True, of=Station)  # a station being moved: wait for its new township
        )
    ).first()
    if row is None:
        return None
    event, timezone, region_id = row
    state = EventState(
        station_id=event.station_id,
        theme=event.theme,
        organization_id=event.organization_id,
        day=local_date(event.starts_at, timezone),
        counted=event.status in COUNTED_EVENT_STATUSES,
        region_id=region_id,
        regions=await _chain(session, region_id),
    )
    if not state.counted:
        return state
    attendance = await session.execute(
        select(Attendance.person_id, Attendance.status, Attendance.minutes,
               Person.is_party_member, Person.is_social_worker)
        .join(Person, Person.id == Attendance.person_id)
        .where(Attendance.event_id == event_id, Attendance.approved.is_(True))
    )  # fmt: skip
    for person_id, status, minutes, party, social in attendance:
        if status in ATTENDED_STATUSES:
            state.people[person_id] = Attendee(minutes, party, social)
        elif status in MISSED_STATUSES:
            state.no_shows += 1
    state.residents = set(
        await session.scalars(select(ServiceRecord.resident_id).where(ServiceRecord.event_id == event_id))
    )
    headcount = await session.scalar(
        select(ServiceHeadcount.headcount).where(ServiceHeadcount.event_id == event_id)
    )
    state.headcount = headcount or 0
    return state


async def _chain(session: AsyncSession, township_id: int | None) -> tuple[int, ...]:
    return tuple(sorted(await ancestors(session, township_id))) if township_id is not None else ()


async def _claim_stored(
    session: AsyncSession, event_id: int, source: EventState | None
) -> EventRollup | None:
    """The event's stored row, locked; a new event gets an empty (uncounted) one first."""
    if source is not None:
        await session.execute(
            insert_for(session, EventRollup)
            .values(event_id=event_id, station_id=source.station_id, region_id=source.region_id,
                    theme=source.theme,
                    organization_id=source.organization_id, local_date=source.day,
                    month=month_of(source.day), year=year_of(source.day), counted=False,
                    **dict.fromkeys(COUNTERS, 0))
            .on_conflict_do_nothing(index_elements=["event_id"])
        )  # fmt: skip
    return await session.scalar(
        select(EventRollup)
        .where(EventRollup.event_id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def stored_state(session: AsyncSession, stored: EventRollup) -> EventState:
    state = EventState(
        station_id=stored.station_id,
        theme=stored.theme,
        organization_id=stored.organization_id,
        day=stored.local_date,
        counted=stored.counted,
        no_shows=stored.no_shows,
        region_id=stored.region_id,
        # Regions are never moved, so the regions above the stored township are those it counted in.
        regions=await _chain(session, stored.region_id),
    )
    people = await session.execute(
        select(EventPersonRollup.person_id, EventPersonRollup.minutes,
               EventPersonRollup.is_party_member, EventPersonRollup.is_social_worker)
        .where(EventPersonRollup.event_id == stored.event_id)
    )  # fmt: skip
    state.people = {pid: Attendee(minutes, party, social) for pid, minutes, party, social in people}
    state.residents = set(
        await session.scalars(
            select(EventResidentRollup.resident_id).where(EventResidentRollup.event_id == stored.event_id)
        )
    )
    state.headcount = stored.residents_served_person_times - len(state.residents) if stored.counted else 0
    return state


async def refresh_event(session: AsyncSession, event_id: int) -> bool:
    """Bring the roll-ups of one event in line with its source rows; answers whether anything changed."""
    source = await source_state(session, event_id)
    stored = await _claim_stored(session, event_id, source)
    if stored is None:
        return False  # never counted, and gone now
    before = await stored_state(session, stored)
    # Gone events count no more (their source rows went with them).
    after = source or EventState(before.station_id, before.theme, before.organization_id, before.day, False)
    changed = await _apply(session, before, after)
    await _store(session, stored, before, after)
    return changed


async def _apply(session: AsyncSession, before: EventState, after: EventState) -> bool:
    """Take the old state out of its cells and put the new one in; only differences are written."""
    counter_deltas: dict[Cell, Counter[str]] = defaultdict(Counter)
    for sign, state in ((-1, before), (1, after)):
        for cell in state.cells():
            for name, value in state.counters().items():
                counter_deltas[cell][name] += sign * value
            counter_deltas[cell]["events"] += sign
    member_deltas: dict[tuple[Cell, str, int], int] = defaultdict(int)
    for sign, state in ((-1, before), (1, after)):
        members = state.members()
        for cell in state.cells():
            for kind, ids in members.items():
                for member_id in ids:
                    member_deltas[(cell, kind, member_id)] += sign
    for (cell, kind, member_id), delta in sorted(member_deltas.items()):
        if delta == 0:
            continue
        entered = await _move_member(session, cell, kind, member_id, delta)
        counter_deltas[cell][DISTINCT_COUNTER[kind]] += entered
    changed = False
    for cell, deltas in sorted(counter_deltas.items()):
        if any(deltas.values()):
            changed = True
            await add_to_cell(session, cell, {k: v for k, v in deltas.items() if v})
    return changed


async def _move_member(session: AsyncSession, cell: Cell, kind: str, member_id: int, delta: int) -> int:
    """Add ``delta`` occurrences of a member; answers +1 if it just entered the cell, -1 if it left."""
    scope, period, theme = cell
    key = {"scope": scope, "period": period, "theme": theme, "kind": kind, "member_id": member_id}
    table = cast(Table, StatsCellMember.__table__)
    if delta > 0:
        upsert: Any = insert_for(session, StatsCellMember).values(**key, occurrences=delta)
        upsert = upsert.on_conflict_do_update(
            index_elements=list(key), set_={"occurrences": table.c.occurrences + delta}
        ).returning(table.c.occurrences)
        occurrences = await session.scalar(upsert)
        return 1 if occurrences == delta else 0
    where = [table.c[name] == value for name, value in key.items()]
    occurrences = await session.scalar(
        update(table)
        .where(*where)
        .values(occurrences=table.c.occurrences + delta)
        .returning(table.c.occurrences)
    )
    if occurrences is None or occurrences > 0:
        return 0
    await session.execute(delete(table).where(*where))
    return -1


async def add_to_cell(session: AsyncSession, cell: Cell, deltas: dict[str, int]) -> None:
    scope, period, theme = cell
    table = cast(Table, StatsCell.__table__)
    stmt = insert_for(session, StatsCell).values(
        scope=scope, period=period, theme=theme, **{**_zeros(), **deltas}
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "period", "theme"],
        set_={name: table.c[name] + value for name, value in deltas.items()},
    )
    await session.execute(stmt)


def _zeros() -> dict[str, int]:
    return dict.fromkeys((*COUNTERS, "events", *DISTINCT_COUNTER.values()), 0)


async def _store(session: AsyncSession, stored: EventRollup, before: EventState, after: EventState) -> None:
    event_id = stored.event_id
    stored.station_id, stored.region_id, stored.theme, stored.organization_id = (
        after.station_id,
        after.region_id,
        after.theme,
        after.organization_id,
    )
    stored.local_date, stored.month, stored.year = after.day, month_of(after.day), year_of(after.day)
    stored.counted = after.counted
    for name, value in after.counters().items():
        setattr(stored, name, value)
    new_people = after.people if after.counted else {}
    gone = [pid for pid in before.people if before.people[pid] != new_people.get(pid)]
    if gone:
        await session.execute(
            delete(EventPersonRollup).where(
                EventPersonRollup.event_id == event_id, EventPersonRollup.person_id.in_(gone)
            )
        )
    # Core inserts, not ORM objects: one session may refresh many events (a person's flag change,
    # a rebuild), and deleted rows must not linger in its identity map.
    if fresh := [pid for pid, p in new_people.items() if before.people.get(pid) != p]:
        await session.execute(
            insert(EventPersonRollup),
            [{"event_id": event_id, "person_id": pid, "minutes": new_people[pid].minutes,
              "is_party_member": new_people[pid].is_party_member,
              "is_social_worker": new_people[pid].is_social_worker} for pid in fresh],
        )  # fmt: skip
    new_residents = after.residents if after.counted else set()
    if gone_residents := before.residents - new_residents:
        await session.execute(
            delete(EventResidentRollup).where(
                EventResidentRollup.event_id == event_id, EventResidentRollup.resident_id.in_(gone_residents)
            )
        )
    if added_residents := new_residents - before.residents:
        await session.execute(
            insert(EventResidentRollup),
            [{"event_id": event_id, "resident_id": rid} for rid in added_residents],
        )
    await session.flush()


async def events_of_person(session: AsyncSession, person_id: int) -> list[int]:
    """Events whose stored counts used this person's flags (a flag change recounts them)."""
    person = await session.get(Person, person_id)
    query = select(EventPersonRollup.event_id).where(EventPersonRollup.person_id == person_id)
    if person is not None:
        query = query.where(
            (EventPersonRollup.is_party_member != person.is_party_member)
            | (EventPersonRollup.is_social_worker != person.is_social_worker)
        )
    return sorted(set(await session.scalars(query)))


# --- bus handlers --------------------------------------------------------------------------------

# The handlers' names in the bus registry: stored on their delivery rows, so never renamed.
EVENT_HANDLER = "stats.rollup_event"
PERSON_HANDLER = "stats.rollup_person"
# The domain events that change what an activity counts (``refresh_rollups_of_event``).
EVENT_FACTS = (
    DomainEventType.event_created,
    DomainEventType.event_published,
    DomainEventType.event_updated,
    DomainEventType.event_rescheduled,
    DomainEventType.event_cancelled,
    DomainEventType.event_completed,
    DomainEventType.attendance_recorded,
    DomainEventType.residents_served,
)
# The domain event that changes the flags an activity's people were counted with.
PERSON_FACTS = (DomainEventType.person_updated,)


async def refresh_rollups_of_event(ctx: HandlerContext, event: DeliveredEvent) -> None:
    """Anything that changed an event, its attendance or the residents it served: recount that event."""
    event_id = event.payload.get("event_id")
    if event_id is None and event.aggregate_type == "event":
        event_id = event.aggregate_id
    if isinstance(event_id, int):
        await refresh_event(ctx.session, event_id)


async def refresh_rollups_of_person(ctx: HandlerContext, event: DeliveredEvent) -> None:
    """A person became (or stopped being) a Party member or social worker: recount the events
    they were counted in with the old flags."""
    for event_id in await events_of_person(ctx.session, event.aggregate_id):
        await refresh_event(ctx.session, event_id)
