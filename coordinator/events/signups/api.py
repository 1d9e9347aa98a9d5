"""Routes of sign-ups and invitations. Staff act for the people of their stations; a volunteer
may sign up and cancel only themselves. Invitation links need no login."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.clock import local_or_none
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES, Forbidden, error_responses, not_found
from coordinator.events import roles
from coordinator.events.models import Signup, SignupSource, SignupStatus
from coordinator.events.service import load_event
from coordinator.events.signups import invitations
from coordinator.events.signups import service as signups
from coordinator.events.signups.rules import role_id_by_name_or_id
from coordinator.events.signups.schemas import (
    InvitationCreate,
    InvitationOut,
    InvitationSentOut,
    SignupCreate,
    SignupOut,
)
from coordinator.events.signups.waitlist import waitlist_position, waitlist_positions
from coordinator.fields import MAX_ID, Id, Line
from coordinator.observability.logging import annotate_request
from coordinator.pagination import CursorQuery, LimitQuery, Page
from coordinator.people.models import Person

router = APIRouter(tags=["sign-ups"], responses=ERROR_RESPONSES)


async def _authorize_for_person(session: AsyncSession, principal: Principal, person_id: int) -> SignupSource:
    """Staff may act for people of their stations (others: 404); a volunteer only for themselves."""
    if principal.role in STAFF_ROLES:
        station_id = await session.scalar(select(Person.station_id).where(Person.id == person_id))
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
async def create_signup(
    event_id: Id, data: SignupCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> SignupOut:
    event, zone = await load_event(session, event_id, principal=principal)
    annotate_request(station_id=event.station_id)
    source = await _authorize_for_person(session, principal, data.person_id)
    placed = await signups.sign_up(
        session,
        clock,
        event,
        zone,
        person_id=data.person_id,
        role_id=role_id_by_name_or_id(event.roles, data.role),
        source=source,
    )
    role_name = roles.role_of(event, placed.signup.role_id).name
    return _shape(placed.signup, role_name, zone, placed.person.name, placed.position)


@router.delete(
    "/events/{event_id}/signups/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cancel a person's sign-up; the first waiting person takes a freed place",
)
async def cancel_signup(
    event_id: Id, person_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    event, _ = await load_event(session, event_id, principal=principal)
    await _authorize_for_person(session, principal, person_id)
    await signups.cancel_signup(session, clock, event_id=event.id, person_id=person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/events/{event_id}/signups",
    response_model=Page[SignupOut],
    summary="List an event's sign-ups with waitlist positions",
)
async def list_signups(
    event_id: Id,
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    status_filter: Annotated[SignupStatus | None, Query(alias="status")] = None,
    role: Annotated[Line | None, Query(max_length=60, description="Role id or name")] = None,
) -> Page[SignupOut]:
    principal.require_staff()
    event, zone = await load_event(session, event_id, principal=principal)
    # Digits beyond any id are a name that no role has: refused as an unknown role, never queried.
    role_ref: int | str | None = role
    if role is not None and role.isdecimal() and int(role) <= MAX_ID:
        role_ref = int(role)
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


@router.post(
    "/events/{event_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationSentOut,
    summary="Invite a person: holds a place until answered or expired; answer through the link",
)
async def create_invitation(
    event_id: Id,
    data: InvitationCreate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> InvitationSentOut:
    principal.require_staff()
    event, zone = await load_event(session, event_id, principal=principal)
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
    event, zone = await load_event(session, signup.event_id)
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
