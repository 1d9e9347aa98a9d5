"""Turn chosen proposals into invitations or confirmed sign-ups, re-checking each one first.

Time passes between proposing and applying: people sign up elsewhere, places fill, consent is
withdrawn. So the inputs are loaded again, each chosen proposal is checked against the engine's
hard rules and the places still open, and one that passes goes through the sign-up rules proper
(``events.signups``: ``sign_up`` or ``invite``) in its own savepoint: one refused
leaves the others applied. The locks it takes first: docs/concurrency.md (invariant 1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Conflict, CoordinatorError, Invalid
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupSource, SignupStatus
from coordinator.events.service import get_event_for, load_event
from coordinator.events.signups.invitations import invite
from coordinator.events.signups.places import lock_people
from coordinator.events.signups.rules import event_not_open
from coordinator.events.signups.service import sign_up
from coordinator.matching.constraints import Rejection, eligible
from coordinator.matching.inputs import Inputs, load_events
from coordinator.matching.model import Candidate, OpenRole
from coordinator.matching.schemas import ApplyIn, ApplyMode, ApplyOut, ApplyOutcome, ChosenProposal
from coordinator.matching.service import open_inputs
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.stations.service import get_station


class _Refused(Exception):
    """A proposal that may not be applied, with the reason to report."""

    def __init__(self, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.message, self.message_en = code, message, message_en


async def apply_for_event(
    *,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    principal: Principal,
    event_id: int,
    data: ApplyIn,
) -> ApplyOut:
    principal.require_staff()
    event = await get_event_for(session, principal, event_id)
    station = await get_station(session=session, principal=principal, station_id=event.station_id)
    await _check_known(session, station, data.proposals, events={event.id: event})
    return await _apply(session, clock, settings, station=station, events=[event], data=data)


async def apply_for_station(
    *,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    principal: Principal,
    station_id: int,
    data: ApplyIn,
) -> ApplyOut:
    principal.require_staff()
    station = await get_station(session=session, principal=principal, station_id=station_id)
    role_ids = sorted({p.role_id for p in data.proposals})
    event_ids = list(await session.scalars(select(EventRole.event_id).where(EventRole.id.in_(role_ids))))
    events = await load_events(session, sorted(set(event_ids)))
    mine = {event_id: event for event_id, event in events.items() if event.station_id == station.id}
    await _check_known(session, station, data.proposals, events=mine)
    return await _apply(session, clock, settings, station=station, events=list(mine.values()), data=data)


async def _check_known(
    session: AsyncSession, station: Station, proposals: Sequence[ChosenProposal], *, events: dict[int, Event]
) -> None:
    """Ids that never fit are bad input: refused as a whole before anything is stored."""
    role_ids = {role.id for event in events.values() for role in event.roles}
    for index, proposal in enumerate(proposals):
        if proposal.role_id not in role_ids:
            raise Invalid(
                f"岗位 {proposal.role_id} 不属于这些活动",
                f"Role {proposal.role_id} is not a role of these events",
                code="unknown_role",
                field=f"proposals.{index}.role_id",
            )
    person_ids = {p.person_id for p in proposals}
    known = set(
        await session.scalars(
            select(Person.id).where(Person.id.in_(person_ids), Person.station_id == station.id)
        )
    )
    for index, proposal in enumerate(proposals):
        if proposal.person_id not in known:
            raise Invalid(
                f"人员 {proposal.person_id} 不属于本站",
                f"Person {proposal.person_id} is not a person of this station",
                code="unknown_person",
                field=f"proposals.{index}.person_id",
            )


async def _apply(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    station: Station,
    events: Sequence[Event],
    data: ApplyIn,
) -> ApplyOut:
    now = clock.now()
    await _lock(session, data.proposals)
    inputs, _ = await open_inputs(session, station=station, events=events, now=now)
    roles = {role.role_id: role for role in inputs.roles}
    people = {candidate.person_id: candidate for candidate in inputs.candidates}
    places_left = dict(inputs.open_places)
    applied: dict[int, list[OpenRole]] = defaultdict(list)
    results: list[ApplyOutcome] = []
    for chosen in data.proposals:
        role = roles[chosen.role_id]
        outcome = ApplyOutcome(
            person_id=chosen.person_id,
            role_id=chosen.role_id,
            event_id=role.event_id,
            applied=False,
            status=None,
            signup_id=None,
            code=None,
            message=None,
            message_en=None,
        )
        try:
            _recheck(inputs, people.get(chosen.person_id), role, applied[chosen.person_id], places_left, now)
            signup = await _store(
                session, clock, settings, role=role, person_id=chosen.person_id, mode=data.mode
            )
        except (_Refused, CoordinatorError) as refusal:
            outcome.code, outcome.message, outcome.message_en = _reason(refusal)
        else:
            applied[chosen.person_id].append(role)
            places_left[role.role_id] -= 1
            outcome.applied, outcome.status, outcome.signup_id = True, signup.status, signup.id
        results.append(outcome)
    done = sum(r.applied for r in results)
    return ApplyOut(results=results, applied=done, skipped=len(results) - done)


def _recheck(
    inputs: Inputs,
    candidate: Candidate | None,
    role: OpenRole,
    applied: list[OpenRole],
    places_left: dict[int, int],
    now: datetime,
) -> None:
    event = inputs.events[role.event_id]
    if event.status != EventStatus.published or event.starts_at <= now:
        error = event_not_open(event)
        raise _Refused(error.code, error.message, error.message_en)
    if candidate is None:
        raise _Refused("person_inactive", "该人员已停用", "The person is no longer active")
    verdict = eligible(candidate, role, now=now, proposed=applied, labels=inputs.labels)
    if isinstance(verdict, Rejection):
        raise _Refused(verdict.code, verdict.text_zh, verdict.text_en)
    if places_left[role.role_id] <= 0:
        raise _Refused(
            "role_full", f"岗位「{role.name}」已无空位", f"Role {role.name!r} has no open place left"
        )


async def _lock(session: AsyncSession, proposals: Sequence[ChosenProposal]) -> None:
    """Lock every role, then every person, each in id order, before reading anything.

    Sign-ups lock a role and then a person; taking all roles before all people, in one global
    order, keeps two applies (or an apply and a sign-up) from waiting on each other in a cycle.
    What is read after the locks cannot change under the request for those roles and people."""
    await session.execute(
        select(EventRole.id)
        .where(EventRole.id.in_(sorted({p.role_id for p in proposals})))
        .order_by(EventRole.id)
        .with_for_update()
    )
    await lock_people(session, [p.person_id for p in proposals])


async def _store(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    role: OpenRole,
    person_id: int,
    mode: ApplyMode,
) -> Signup:
    """One sign-up or invitation in its own savepoint; a confirmation that would only wait is undone."""
    async with session.begin_nested():
        if mode is ApplyMode.invite:
            signup, _token = await invite(
                session,
                clock,
                settings,
                event_id=role.event_id,
                person_id=person_id,
                role_id=role.role_id,
                source=SignupSource.matcher,
            )
            return signup
        event, zone = await load_event(session, role.event_id)
        signup = (
            await sign_up(
                session,
                clock,
                event,
                zone,
                person_id=person_id,
                role_id=role.role_id,
                source=SignupSource.matcher,
            )
        ).signup
        if signup.status != SignupStatus.confirmed:
            # The matcher fills open places; it never queues anyone (the savepoint undoes the wait).
            raise Conflict(
                f"岗位「{role.name}」已满", f"Role {role.name!r} is full", code="role_full", field="role_id"
            )
        return signup


def _reason(refusal: _Refused | CoordinatorError) -> tuple[str, str, str]:
    return refusal.code, refusal.message, refusal.message_en
