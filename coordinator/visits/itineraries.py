"""Publishing an itinerary: a ``home_visit`` event (a lead and a companion place) with its
residents attached in walking order, its visitors invited or confirmed through the one sign-up
path (``matching.apply``: every sign-up rule re-checked), then reminded as for any event."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.events.models import Event
from coordinator.events.schemas import EventCreate, RoleIn
from coordinator.events.service import create_event, get_event_for, publish_event
from coordinator.matching.apply import apply_for_event
from coordinator.matching.schemas import ApplyIn, ApplyOutcome, ChosenProposal
from coordinator.people.models import Resident
from coordinator.settings import Settings
from coordinator.stations.service import get_station
from coordinator.visits.due import DueResident, ledger_status
from coordinator.visits.models import VisitStop
from coordinator.visits.planning import LEAD
from coordinator.visits.schemas import ItineraryIn

LEAD_ROLE, COMPANION_ROLE = "走访带队", "走访志愿者"


@dataclass(frozen=True)
class Published:
    event: Event
    resident_ids: list[int]
    visitors: list[ApplyOutcome]


async def publish_itinerary(
    *, session: AsyncSession, clock: Clock, settings: Settings, principal: Principal, data: ItineraryIn
) -> Published:
    principal.require_staff()
    station = await get_station(session=session, principal=principal, station_id=data.station_id)
    resident_ids = list(dict.fromkeys(data.resident_ids))
    await _check_residents(session, station.id, resident_ids)
    event = await create_event(
        session,
        clock,
        data=EventCreate(
            station_id=station.id,
            theme="home_visit",
            title=f"入户走访·{data.area}",
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            location=data.area,
            roles=[RoleIn(name=LEAD_ROLE, count=1), RoleIn(name=COMPANION_ROLE, count=1)],
        ),
        created_by=principal.user_id,
    )
    await publish_event(session, clock, event=event)
    session.add_all(
        VisitStop(event_id=event.id, resident_id=rid, position=i) for i, rid in enumerate(resident_ids)
    )
    await session.flush()
    outcomes: list[ApplyOutcome] = []
    if data.visitors:
        role_ids = {role.name: role.id for role in event.roles}
        chosen = [
            ChosenProposal(
                person_id=v.person_id, role_id=role_ids[LEAD_ROLE if v.role == LEAD else COMPANION_ROLE]
            )
            for v in data.visitors
        ]
        applied = await apply_for_event(
            session=session,
            clock=clock,
            settings=settings,
            principal=principal,
            event_id=event.id,
            data=ApplyIn(proposals=chosen, mode=data.mode),
        )
        outcomes = applied.results
    return Published(event, resident_ids, outcomes)


async def _check_residents(session: AsyncSession, station_id: int, resident_ids: list[int]) -> None:
    found = set(
        await session.scalars(
            select(Resident.id).where(
                Resident.id.in_(resident_ids), Resident.station_id == station_id, Resident.is_active.is_(True)
            )
        )
    )
    if missing := [rid for rid in resident_ids if rid not in found]:
        raise Invalid(
            f"不在本站台账中的居民：{missing}",
            f"Not on this station's active ledger: {missing}",
            code="unknown_resident",
            field="resident_ids",
        )


@dataclass(frozen=True)
class Stop:
    resident: Resident
    due: DueResident | None  # None: in no category with a visit policy


async def itinerary_stops(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int
) -> tuple[Event, list[Stop]]:
    """The itinerary's residents in walking order, with where they stand against the policies."""
    principal.require_staff()
    event = await get_event_for(session, principal, event_id)
    residents = await session.scalars(
        select(Resident)
        .join(VisitStop, VisitStop.resident_id == Resident.id)
        .where(VisitStop.event_id == event.id)
        .options(selectinload(Resident.category_rows))
        .order_by(VisitStop.position)
    )
    station = await get_station(session=session, principal=principal, station_id=event.station_id)
    status = {r.resident_id: r for r in await ledger_status(session, [station], now=clock.now())}
    return event, [Stop(resident, status.get(resident.id)) for resident in residents]
