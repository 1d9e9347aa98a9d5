"""Routes of sign-ups, role counts and removal, and invitations. Staff act for the people of their
stations; a volunteer may sign up and cancel only themselves. Invitation links need no login."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.clock import local_or_none
from coordinator.deps import BearerCallDep, ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES, Forbidden, error_responses, not_found
from coordinator.events import invitations, roles, service, signups
from coordinator.events.models import Event, Signup, SignupSource, SignupStatus
from coordinator.events.signup_rules import role_id_by_name_or_id
from coordinator.events.signup_schemas import (
    InvitationCreate,
    InvitationOut,
    InvitationSentOut,
    RoleCountUpdate,
    RoleOut,
    SignupCreate,
    SignupOut,
)
from coordinator.events.signup_target import SignupTarget, read_target_as
from coordinator.events.waitlist import waitlist_position, waitlist_positions
from coordinator.observability.logging import annotate_request
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.people.models import Person

router = APIRouter(tags=["sign-ups"], responses=ERROR_RESPONSES)


async def _event_for(session: AsyncSession, principal: Principal, event_id: int) -> tuple[Event, str]:
    """The event if the caller may see it: staff of its station, or a volunteer of that station."""
    event, zone = await signups.load_event(session, event_id)
    own_station = None if principal.role in STAFF_ROLES else await _station_of(session, principal.person_id)
    _check_sees_event(principal, event_id, event.station_id, own_station)
    return event, zone


def _check_sees_event(principal: Principal, event_id: int, station_id: int, own_station: int | None) -> None:
    """Staff see the events of their stations, a volunteer those of their own (``own_station``)."""
    if principal.role in STAFF_ROLES:
        visible = principal.can_access(station_id)
    else:
        visible = own_station is not None and own_station == station_id
    if not visible:
        raise not_found("活动", "event", event_id)


async def _station_of(session: AsyncSession, person_id: int | None) -> int | None:
    if person_id is None:
        return None
    return await session.scalar(select(Person.station_id).where(Person.id == person_id))


async def _authorize_for_person(session: AsyncSession, principal: Principal, person_id: int) -> SignupSource:
    station_id = await _station_of(session, person_id) if principal.role in STAFF_ROLES else None
    return _source_for(principal, person_id, station_id)


def _source_for(principal: Principal, person_id: int, station_id: int | None) -> SignupSource:
    """Staff may act for people of their stations (others: 404); a volunteer only for themselves.
    ``station_id`` is the person's (None: no such person); volunteers need not know it."""
    if principal.role in STAFF_ROLES:
        if station_id is None or not principal.can_access(station_id):
            raise not_found("人员", "person", person_id)
        return SignupSource.organizer
    if principal.person_id is None or principal.person_id != person_id:
        raise Forbidden(
            "志愿者只能为自己报名或取消", "Volunteers may act only for themselves", code="self_only"
        )
    return SignupSource.self


def _shape(
    signup: Signup, role_name: str, zone: str, person_name: str | None, position: int | None
) -> SignupOut:
    return SignupOut(
        id=signup.id,
        event_id=signup.event_id,
        role_id=signup.role_id,
        role_name=role_name,
        person_id=signup.person_id,
        person_name=person_name,
        status=signup.status,
        position=position,
        source=signup.source,
        created_at=signup.created_at.astimezone(ZoneInfo(zone)),
        confirmed_at=local_or_none(signup.confirmed_at, ZoneInfo(zone)),
        cancelled_at=local_or_none(signup.cancelled_at, ZoneInfo(zone)),
        invitation_expires_at=local_or_none(signup.invitation_expires_at, ZoneInfo(zone)),
    )


@router.post(
    "/events/{event_id}/signups",
    status_code=status.HTTP_201_CREATED,
    response_model=SignupOut,
    summary="Sign a person up for a role (confirmed, or waitlisted when full)",
)
async def create_signup(event_id: int, data: SignupCreate, call: BearerCallDep) -> SignupOut:
    # The account is read with the event and the person: no principal query of its own.
    principal, target = await read_target_as(
        call.session, user_id=call.user_id, event_id=event_id, person_id=data.person_id
    )
    annotate_request(station_id=target.event.station_id)
    source = await _authorize_sign_up(call.session, principal, target)
    role_id = role_id_by_name_or_id(target.roles, data.role)
    # The request writes nothing else: the sign-up commits as it is written, and the role's lock,
    # which the other sign-ups of an activity's opening queue for, is held only inside the server.
    placed = await signups.place(
        call.session, call.clock, target, role_id=role_id, source=source, commit_at_once=True
    )
    signup, person = placed.signup, target.person
    role_name = next(r.name for r in target.roles if r.id == signup.role_id)
    return _shape(signup, role_name, target.zone, person.name if person else None, placed.position)


async def _authorize_sign_up(
    session: AsyncSession, principal: Principal, target: SignupTarget
) -> SignupSource:
    """``_event_for`` and ``_authorize_for_person`` on what ``read_target_as`` read: no query,
    except the own station of a volunteer naming someone else (refused either way)."""
    person_station = None if target.person is None else target.person.station_id
    if principal.role in STAFF_ROLES or principal.person_id == target.person_id:
        own_station = person_station
    else:
        own_station = await _station_of(session, principal.person_id)
    _check_sees_event(principal, target.event.id, target.event.station_id, own_station)
    return _source_for(principal, target.person_id, person_station)


@router.delete(
    "/events/{event_id}/signups/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cancel a person's sign-up; the first waiting person takes a freed place",
)
async def cancel_signup(
    event_id: int, person_id: int, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    event, _ = await _event_for(session, principal, event_id)
    await _authorize_for_person(session, principal, person_id)
    await signups.cancel_signup(session, clock, event_id=event.id, person_id=person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/events/{event_id}/signups",
    response_model=Page[SignupOut],
    summary="List an event's sign-ups with waitlist positions",
)
async def list_signups(
    event_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    status_filter: Annotated[SignupStatus | None, Query(alias="status")] = None,
    role: Annotated[str | None, Query(description="Role id or name")] = None,
) -> Page[SignupOut]:
    principal.require_staff()
    event, zone = await _event_for(session, principal, event_id)
    role_ref: int | str | None = int(role) if role is not None and role.isdigit() else role
    rows, next_cursor = await signups.list_signups(
        session,
        event_id=event.id,
        status=status_filter,
        role_id=role_id_by_name_or_id(event.roles, role_ref),
        limit=limit,
        cursor=cursor,
    )
    person_ids = {s.person_id for s in rows}
    names = {
        pid: name
        for pid, name in await session.execute(
            select(Person.id, Person.name).where(Person.id.in_(person_ids))
        )
    }
    positions = await waitlist_positions(
        session, [s.role_id for s in rows if s.status == SignupStatus.waitlisted]
    )
    role_names = await roles.role_names(session, event, (s.role_id for s in rows))
    items = [
        _shape(s, role_names[s.role_id], zone, names.get(s.person_id), positions.get(s.id)) for s in rows
    ]
    return Page[SignupOut](items=items, next_cursor=next_cursor)


@router.patch(
    "/events/{event_id}/roles/{role_id}",
    response_model=RoleOut,
    summary="Change a role's places: a raise promotes waiting people; a cut below confirmed needs force",
)
async def update_role_count(
    event_id: int,
    role_id: int,
    data: RoleCountUpdate,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> RoleOut:
    principal.require_staff()
    event, _ = await _event_for(session, principal, event_id)
    role = roles.role_of(event, role_id)
    change = await roles.set_role_count(session, clock, role=role, count=data.count, force=data.force)
    return RoleOut(
        id=change.role.id,
        event_id=change.role.event_id,
        name=change.role.name,
        count=change.role.count,
        confirmed_count=change.role.confirmed_count,
        promoted_signup_ids=[s.id for s in change.promoted],
        demoted_signup_ids=[s.id for s in change.demoted],
    )


@router.delete(
    "/events/{event_id}/roles/{role_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a role nobody holds or waits for (not the last; not once the event started)",
)
async def remove_role(
    event_id: int, role_id: int, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    """Refused (409) while the role has confirmed, invited or waiting people: move or cancel them
    first. Cancelled, declined and expired sign-ups of the role stay, as history."""
    principal.require_staff()
    event = await service.get_event_for(session, principal, event_id, for_update=True)
    await roles.remove_role(session, clock, event=event, role_id=role_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/events/{event_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationSentOut,
    summary="Invite a person: holds a place until answered or expired; answer through the link",
)
async def create_invitation(
    event_id: int,
    data: InvitationCreate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> InvitationSentOut:
    principal.require_staff()
    event, zone = await _event_for(session, principal, event_id)
    await _authorize_for_person(session, principal, data.person_id)
    signup, token = await invitations.invite(
        session,
        clock,
        settings,
        event_id=event.id,
        person_id=data.person_id,
        role_id=role_id_by_name_or_id(event.roles, data.role),
        source=SignupSource.organizer,
    )
    assert signup.invitation_expires_at is not None
    return InvitationSentOut(
        signup_id=signup.id,
        status=signup.status,
        expires_at=signup.invitation_expires_at.astimezone(ZoneInfo(zone)),
        token=token,
        url=invitations.invitation_url(settings, token),
    )


async def _invitation_out(session: AsyncSession, signup: Signup) -> InvitationOut:
    event, zone = await signups.load_event(session, signup.event_id)
    person = await session.get(Person, signup.person_id)
    assert person is not None
    return InvitationOut(
        signup_id=signup.id,
        status=signup.status,
        person_name=person.name,
        event_id=event.id,
        event_title=event.title,
        starts_at=event.starts_at.astimezone(ZoneInfo(zone)),
        ends_at=event.ends_at.astimezone(ZoneInfo(zone)),
        location=event.location,
        role_name=(await roles.role_names(session, event, [signup.role_id]))[signup.role_id],
        expires_at=local_or_none(signup.invitation_expires_at, ZoneInfo(zone)),
        position=await waitlist_position(session, signup),
    )


@router.get(
    "/invitations/{token}",
    response_model=InvitationOut,
    responses=error_responses(410),
    summary="Show an invitation (no login)",
)
async def show_invitation(
    token: str, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> InvitationOut:
    signup = await invitations.read_invitation(session, clock, settings, token)
    return await _invitation_out(session, signup)


@router.post(
    "/invitations/{token}/accept",
    response_model=InvitationOut,
    responses=error_responses(410),
    summary="Accept an invitation (no login): confirmed, or waitlisted if no place is left",
)
async def accept_invitation(
    token: str, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> InvitationOut:
    signup = await invitations.accept(session, clock, settings, token)
    return await _invitation_out(session, signup)


@router.post(
    "/invitations/{token}/decline",
    response_model=InvitationOut,
    responses=error_responses(410),
    summary="Decline an invitation (no login): the place goes to the first waiting person",
)
async def decline_invitation(
    token: str, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> InvitationOut:
    signup = await invitations.decline(session, clock, settings, token)
    return await _invitation_out(session, signup)
