"""Routes of matching: propose, apply, and the station's weights. Staff only."""

from __future__ import annotations

from fastapi import APIRouter

from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES
from coordinator.fields import Id
from coordinator.matching import apply, service
from coordinator.matching.schemas import (
    ApplyIn,
    ApplyOut,
    MatchingWeightsIn,
    MatchingWeightsOut,
    MatchOut,
    StationMatchIn,
)

router = APIRouter(tags=["matching"], responses=ERROR_RESPONSES)


@router.post(
    "/events/{event_id}/match", response_model=MatchOut, summary="Propose who fills an event's open places"
)
async def match_event(
    event_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> MatchOut:
    """The optimal proposals for each open role, with reasons in Chinese and English. Changes nothing."""
    return await service.propose_for_event(
        session=session, clock=clock, principal=principal, event_id=event_id
    )


@router.post(
    "/events/{event_id}/match/apply", response_model=ApplyOut, summary="Invite or confirm chosen proposals"
)
async def apply_event_match(
    event_id: Id,
    data: ApplyIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ApplyOut:
    """Each proposal is checked again and, if it still holds, becomes an invitation or a confirmed
    sign-up (source ``matcher``); the answer says per proposal what happened."""
    return await apply.apply_for_event(
        session=session, clock=clock, settings=settings, principal=principal, event_id=event_id, data=data
    )


@router.post(
    "/stations/{station_id}/match",
    response_model=MatchOut,
    summary="Propose for a station's events in a range",
)
async def match_station(
    station_id: Id, data: StationMatchIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> MatchOut:
    """One solve over the station's published events starting in [from, to): nobody is proposed for
    two overlapping events or beyond their monthly maximum. Changes nothing."""
    return await service.propose_for_station(
        session=session, clock=clock, principal=principal, station_id=station_id, window=data
    )


@router.post(
    "/stations/{station_id}/match/apply",
    response_model=ApplyOut,
    summary="Invite or confirm proposals of a station",
)
async def apply_station_match(
    station_id: Id,
    data: ApplyIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ApplyOut:
    return await apply.apply_for_station(
        session=session, clock=clock, settings=settings, principal=principal, station_id=station_id, data=data
    )


@router.get(
    "/stations/{station_id}/matching-weights",
    response_model=MatchingWeightsOut,
    summary="The station's matching weights",
)
async def get_matching_weights(
    station_id: Id, session: SessionDep, principal: PrincipalDep
) -> MatchingWeightsOut:
    return await service.get_weights(session=session, principal=principal, station_id=station_id)


@router.put(
    "/stations/{station_id}/matching-weights",
    response_model=MatchingWeightsOut,
    summary="Replace the station's matching weights",
)
async def put_matching_weights(
    station_id: Id, data: MatchingWeightsIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> MatchingWeightsOut:
    """Station heads and admins; every weight from 0 (off) to 100, a filled place counting 10."""
    return await service.put_weights(
        session=session, clock=clock, principal=principal, station_id=station_id, data=data
    )
