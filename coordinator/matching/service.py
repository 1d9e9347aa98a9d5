"""Proposals for one event or a station's date range, and the station's weights.

Proposing only reads: it loads the inputs (``inputs.py``), solves, and shapes the answer.
Applying chosen proposals is ``apply.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.events.models import Event
from coordinator.events.service import get_event_for
from coordinator.events.signups.rules import check_event_open
from coordinator.matching.engine import solve
from coordinator.matching.inputs import Inputs, load_inputs, station_events, zone_of
from coordinator.matching.model import MatchResult, Proposal, Weights
from coordinator.matching.models import DEFAULT_PARTY_MEMBER_SHARE, StationMatchingWeights
from coordinator.matching.problem import TOLERANCE
from coordinator.matching.schemas import (
    EventMatchOut,
    MatchingWeightsIn,
    MatchingWeightsOut,
    MatchOut,
    ProposalOut,
    ReasonOut,
    RoleMatchOut,
    StationMatchIn,
)
from coordinator.stations.models import Station
from coordinator.stations.service import get_station

# One solve covers at most this much calendar: enough for "the next weeks", bounded in cost.
MAX_RANGE = timedelta(days=92)


async def station_weights(session: AsyncSession, station_id: int) -> tuple[Weights, float]:
    """The station's weights and Party-member share, or the defaults."""
    row = await session.get(StationMatchingWeights, station_id)
    if row is None:
        return Weights(), DEFAULT_PARTY_MEMBER_SHARE
    return row.weights(), row.party_member_share


async def open_inputs(
    session: AsyncSession, *, station: Station, events: Sequence[Event], now: datetime
) -> tuple[Inputs, Weights]:
    weights, share = await station_weights(session, station.id)
    inputs = await load_inputs(session, station=station, events=events, now=now, party_member_share=share)
    return inputs, weights


async def propose_for_event(
    *, session: AsyncSession, clock: Clock, principal: Principal, event_id: int
) -> MatchOut:
    """Who should fill the open places of one event; stores nothing."""
    principal.require_staff()
    event = await get_event_for(session, principal, event_id)
    now = clock.now()
    check_event_open(event, now)
    station = await get_station(session=session, principal=principal, station_id=event.station_id)
    return await _propose(session, station=station, events=[event], now=now)


async def propose_for_station(
    *, session: AsyncSession, clock: Clock, principal: Principal, station_id: int, window: StationMatchIn
) -> MatchOut:
    """One solve over every published, not yet started event of the station in the range, so that
    nobody is proposed for two overlapping events or beyond their monthly maximum; stores nothing."""
    principal.require_staff()
    station = await get_station(session=session, principal=principal, station_id=station_id)
    check_range(window)
    now = clock.now()
    events = await station_events(session, station_id=station.id, start=window.start, end=window.end, now=now)
    if not events:
        return MatchOut(events=[], objective=0.0, optimal=True)
    return await _propose(session, station=station, events=list(events.values()), now=now)


def check_range(window: StationMatchIn) -> None:
    if window.end - window.start > MAX_RANGE:
        raise Invalid(
            f"时间范围过长：最多 {MAX_RANGE.days} 天",
            f"The range is too long: at most {MAX_RANGE.days} days",
            code="range_too_long",
            field="to",
        )


async def _propose(
    session: AsyncSession, *, station: Station, events: Sequence[Event], now: datetime
) -> MatchOut:
    inputs, weights = await open_inputs(session, station=station, events=events, now=now)
    result = solve(inputs.roles, inputs.candidates, weights, now=now, labels=inputs.labels)
    return match_out(inputs, result)


def match_out(inputs: Inputs, result: MatchResult) -> MatchOut:
    zone = zone_of(inputs.station)
    by_role: dict[int, list[Proposal]] = defaultdict(list)
    for proposal in result.proposals:
        by_role[proposal.role_id].append(proposal)
    events = []
    for event in inputs.events.values():
        roles = [
            RoleMatchOut(
                role_id=role.id,
                name=role.name,
                open_places=inputs.open_places[role.id],
                unfilled=result.unfilled.get(role.id, 0),
                proposals=[_proposal_out(p, inputs.names) for p in by_role.get(role.id, [])],
            )
            for role in event.roles
        ]
        events.append(
            EventMatchOut(
                event_id=event.id,
                title=event.title,
                starts_at=event.starts_at.astimezone(zone),
                ends_at=event.ends_at.astimezone(zone),
                roles=roles,
            )
        )
    bound = result.bound
    optimal = bound is not None and result.objective >= bound - TOLERANCE * max(1.0, abs(bound)) - 1e-6
    return MatchOut(events=events, objective=round(result.objective, 6), optimal=optimal)


def _proposal_out(proposal: Proposal, names: dict[int, str]) -> ProposalOut:
    return ProposalOut(
        person_id=proposal.person_id,
        name=names[proposal.person_id],
        role_id=proposal.role_id,
        score=round(proposal.score, 6),
        reasons=[ReasonOut(code=r.code, zh=r.text_zh, en=r.text_en) for r in proposal.reasons],
    )


def _weights_out(station_id: int, weights: Weights, share: float, *, is_default: bool) -> MatchingWeightsOut:
    return MatchingWeightsOut(
        station_id=station_id,
        filled_place=weights.filled_place,
        language=weights.language,
        extra_skills=weights.extra_skills,
        fairness_recent=weights.fairness_recent,
        fairness_load=weights.fairness_load,
        party_quota=weights.party_quota,
        reliability=weights.reliability,
        continuity=weights.continuity,
        party_member_share=share,
        is_default=is_default,
    )


async def get_weights(*, session: AsyncSession, principal: Principal, station_id: int) -> MatchingWeightsOut:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=station_id)
    row = await session.get(StationMatchingWeights, station_id)
    weights, share = await station_weights(session, station_id)
    return _weights_out(station_id, weights, share, is_default=row is None)


async def put_weights(
    *, session: AsyncSession, clock: Clock, principal: Principal, station_id: int, data: MatchingWeightsIn
) -> MatchingWeightsOut:
    """Replace the station's weights (station heads and admins).

    The primary key (one row per station) settles two concurrent first writes: the loser's
    insert fails inside its savepoint and it updates the winner's row instead, under its lock."""
    principal.require(Role.admin, Role.station_head)
    await get_station(session=session, principal=principal, station_id=station_id)
    values = data.model_dump() | {"updated_at": clock.now(), "updated_by": principal.user_id}
    row = await _locked_weights(session, station_id)
    if row is None:
        try:
            async with session.begin_nested():
                session.add(StationMatchingWeights(station_id=station_id, **values))
                await session.flush()
        except IntegrityError:
            row = await _locked_weights(session, station_id)
    if row is not None:
        for name, value in values.items():
            setattr(row, name, value)
        await session.flush()
    weights, share = await station_weights(session, station_id)
    return _weights_out(station_id, weights, share, is_default=False)


async def _locked_weights(session: AsyncSession, station_id: int) -> StationMatchingWeights | None:
    row: StationMatchingWeights | None = await session.scalar(
        select(StationMatchingWeights)
        .where(StationMatchingWeights.station_id == station_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return row
