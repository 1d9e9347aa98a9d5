"""The volunteer's phone pages: open activities, sign up or cancel, answer invitations, my activities
(with my training courses) and calendar links, and the page the check-in QR code opens."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance import checkin
from coordinator.attendance.schemas import CheckinIn
from coordinator.attendance.tokens import event_id_of
from coordinator.auth.wechat import unbind
from coordinator.db import transaction
from coordinator.deps import SessionDep
from coordinator.errors import CoordinatorError, not_found
from coordinator.events import service
from coordinator.events.calendar.feed import feed_events, feed_token, feed_urls, reissue_token
from coordinator.events.calendar.ics import MEDIA_TYPE, TENTATIVE_SIGNUPS, render_calendar
from coordinator.events.models import (
    LIVE_SIGNUP_STATUSES,
    Event,
    EventRole,
    EventStatus,
    Signup,
    SignupSource,
    SignupStatus,
)
from coordinator.events.signups import invitations
from coordinator.events.signups import service as signups
from coordinator.fields import Id
from coordinator.people.models import Person
from coordinator.people.shaping import station_zones
from coordinator.training.enrolment import standing_enrolments
from coordinator.web.context import (
    FormDep,
    VolunteerDep,
    act,
    clock_of,
    error_flash,
    redirect,
    render,
    sessionmaker_of,
    settings_of,
)
from coordinator.web.scope import integer, text

router = APIRouter(include_in_schema=False)
UPCOMING_LIMIT = 100


@dataclass(frozen=True)
class Mine:
    signup: Signup
    event: Event
    role_name: str


async def _live_signups(session: AsyncSession, person_id: int) -> dict[int, Signup]:
    rows = await session.scalars(
        select(Signup).where(Signup.person_id == person_id, Signup.status.in_(LIVE_SIGNUP_STATUSES))
    )
    return {row.event_id: row for row in rows}


async def _zone(session: AsyncSession, station_id: int) -> ZoneInfo:
    return (await station_zones(session, [station_id]))[station_id]


@router.get("/web/m", response_class=HTMLResponse)
async def upcoming(request: Request, viewer: VolunteerDep, session: SessionDep) -> HTMLResponse:
    now = clock_of(request).now()
    filters = service.EventFilters(status=EventStatus.published, starts_from=now)
    events, _ = await service.list_events(
        session, viewer.principal, filters=filters, limit=UPCOMING_LIMIT, cursor=None
    )
    events = [event for event in events if event.starts_at > now]
    zones = await station_zones(session, {event.station_id for event in events})
    return render(
        request,
        "m_upcoming.html",
        viewer,
        events=events,
        zones=zones,
        mine=await _live_signups(session, viewer.person_id),
    )


@router.get("/web/m/events/{event_id}", response_class=HTMLResponse)
async def event_detail(
    request: Request, event_id: Id, viewer: VolunteerDep, session: SessionDep
) -> HTMLResponse:
    event = await service.get_event_for(session, viewer.principal, event_id)
    mine = (await _live_signups(session, viewer.person_id)).get(event.id)
    return render(
        request,
        "m_event.html",
        viewer,
        event=event,
        zone=await _zone(session, event.station_id),
        mine=mine,
        role_names={role.id: role.name for role in event.roles},
    )


@router.post("/web/m/events/{event_id}/signup")
async def sign_up(request: Request, event_id: Id, viewer: VolunteerDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Signup:
        event, zone = await service.load_event(session, event_id, principal=viewer.principal)
        placed = await signups.sign_up(
            session,
            clock_of(request),
            event,
            zone,
            person_id=viewer.person_id,
            role_id=integer(form, "role_id") if text(form, "role_id") else None,
            source=SignupSource.self,
        )
        return placed.signup

    page = f"/web/m/events/{event_id}"
    return await act(
        request,
        work,
        back=page,
        flash=lambda s: "m.signed_up" if s.status == SignupStatus.confirmed else "m.waitlisted",
    )


@router.post("/web/m/events/{event_id}/cancel")
async def cancel(request: Request, event_id: Id, viewer: VolunteerDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Signup:
        event = await service.get_event_for(session, viewer.principal, event_id)
        return await signups.cancel_signup(
            session, clock_of(request), event_id=event.id, person_id=viewer.person_id
        )

    return await act(request, work, back=f"/web/m/events/{event_id}", flash="m.cancelled")


@router.post("/web/m/signups/{signup_id}/{answer}")
async def answer_invitation(
    request: Request, signup_id: Id, answer: str, viewer: VolunteerDep, form: FormDep
) -> RedirectResponse:
    settings, clock = settings_of(request), clock_of(request)

    async def work(session: AsyncSession) -> Signup:
        signup = await session.get(Signup, signup_id)
        if signup is None or signup.person_id != viewer.person_id or answer not in ("accept", "decline"):
            raise not_found("邀请", "invitation", signup_id)
        if signup.status != SignupStatus.invited or signup.invitation_expires_at is None:
            raise invitations.invitation_expired()
        token = invitations.invitation_token(settings, signup, now=clock.now())
        if answer == "accept":
            return await invitations.accept(session, clock, settings, token)
        return await invitations.decline(session, clock, settings, token)

    return await act(
        request, work, back="/web/m/mine", flash="m.accepted" if answer == "accept" else "m.declined"
    )


@router.get("/web/m/mine", response_class=HTMLResponse)
async def my_activities(request: Request, viewer: VolunteerDep, session: SessionDep) -> HTMLResponse:
    settings, clock = settings_of(request), clock_of(request)
    person = await session.get(Person, viewer.person_id)
    assert person is not None
    events = {event.id: event for event, _ in await feed_events(session, clock, person.id)}
    live = await _live_signups(session, person.id)
    rows = [signup for event_id, signup in live.items() if event_id in events]
    role_names = await _role_names(session, [s.role_id for s in rows])
    token = feed_token(settings, clock, person_id=person.id, version=person.calendar_token_version)
    url, webcal = feed_urls(settings, person.id, token)
    mine = sorted(
        (Mine(s, events[s.event_id], role_names.get(s.role_id, "")) for s in rows),
        key=lambda m: m.event.starts_at,
    )
    return render(
        request,
        "m_mine.html",
        viewer,
        mine=mine,
        zone=await _zone(session, person.station_id),
        feed_url=url,
        webcal_url=webcal,
        wechat_bound=person.wechat_openid is not None,
        now=clock.now(),
        courses=await standing_enrolments(session, person.id),
    )


async def _role_names(session: AsyncSession, role_ids: list[int]) -> dict[int, str]:
    if not role_ids:
        return {}
    rows = await session.execute(select(EventRole.id, EventRole.name).where(EventRole.id.in_(role_ids)))
    return {role_id: name for role_id, name in rows}


@router.post("/web/m/calendar-link")
async def reset_calendar_link(request: Request, viewer: VolunteerDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> None:
        await reissue_token(
            session=session,
            settings=settings_of(request),
            clock=clock_of(request),
            principal=viewer.principal,
            person_id=viewer.person_id,
        )

    return await act(request, work, back="/web/m/mine", flash="m.link_reset")


@router.post("/web/m/wechat/unbind")
async def unbind_wechat(request: Request, viewer: VolunteerDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> None:
        await unbind(session, person_id=viewer.person_id)

    return await act(request, work, back="/web/m/mine", flash="m.wechat_unbound")


@router.get("/web/m/events/{event_id}/calendar.ics")
async def event_ics(request: Request, event_id: Id, viewer: VolunteerDep, session: SessionDep) -> Response:
    event = await service.get_event_for(session, viewer.principal, event_id)
    zones = await station_zones(session, [event.station_id])
    mine = (await _live_signups(session, viewer.person_id)).get(event.id)
    tentative = [event.id] if mine is not None and mine.status in TENTATIVE_SIGNUPS else []
    body = render_calendar([event], zones, now=clock_of(request).now(), name=event.title, tentative=tentative)
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )


@router.get("/web/checkin", response_class=HTMLResponse)
async def checkin_page(
    request: Request, viewer: VolunteerDep, session: SessionDep, token: str = ""
) -> HTMLResponse:
    """The page a phone camera opens from the event's QR code; the button records the scan."""
    settings, clock = settings_of(request), clock_of(request)
    event_id = event_id_of(settings.secret_key.get_secret_value(), token, now=clock.now())
    event = await service.get_event_for(session, viewer.principal, event_id)
    return render(
        request,
        "m_checkin.html",
        viewer,
        event=event,
        zone=await _zone(session, event.station_id),
        token=token,
    )


@router.post("/web/checkin", response_model=None)
async def checkin_submit(request: Request, viewer: VolunteerDep, form: FormDep) -> Response:
    settings, clock = settings_of(request), clock_of(request)
    token = text(form, "token")
    try:
        async with transaction(sessionmaker_of(request)) as session:
            checked = await checkin.checkin_by_code(
                session=session,
                clock=clock,
                settings=settings,
                principal=viewer.principal,
                data=CheckinIn(token=token),
            )
            result, event, zone = checked.scan, checked.event, checked.zone
    except CoordinatorError as exc:
        return redirect(request, f"/web/checkin?{urlencode({'token': token})}", error_flash(exc))
    return render(
        request, "m_checkin.html", viewer, event=event, zone=zone, token=None, action=str(result.action)
    )
