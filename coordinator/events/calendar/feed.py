"""A person's subscription feed: their confirmed, waiting and invited events as one iCalendar.

Phone calendars cannot log in, so the address carries a signed token: ``{"pid", "ver"}`` with no
expiry. Issuing a new token bumps ``Person.calendar_token_version`` (one atomic UPDATE, so two
concurrent re-issues never share a version), which revokes every address given out before."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from coordinator.errors import ERROR_RESPONSES, not_found
from coordinator.events.calendar.ics import MEDIA_TYPE, TENTATIVE_SIGNUPS, render_calendar
from coordinator.events.models import LIVE_SIGNUP_STATUSES, Event, EventStatus, Signup, SignupStatus
from coordinator.events.schemas import CalendarTokenOut
from coordinator.fields import Id
from coordinator.people.models import Person
from coordinator.people.records import bump_token_version
from coordinator.people.service import get_person
from coordinator.people.shaping import station_zones
from coordinator.security import sign, verify
from coordinator.settings import Settings

PURPOSE = "calendar"
# Feeds show recent history too, so a just-finished activity does not vanish from the phone.
FEED_HISTORY = timedelta(days=90)
FEED_MAX_EVENTS = 1000

router = APIRouter(tags=["calendar"], responses=ERROR_RESPONSES)


def feed_token(settings: Settings, clock: Clock, *, person_id: int, version: int) -> str:
    return sign(
        settings.secret_key.get_secret_value(), PURPOSE, {"pid": person_id, "ver": version}, now=clock.now()
    )


def feed_urls(settings: Settings, person_id: int, token: str) -> tuple[str, str]:
    url = f"{settings.public_base_url.rstrip('/')}/api/v1/people/{person_id}/calendar.ics?token={token}"
    return url, urlunsplit(urlsplit(url)._replace(scheme="webcal"))


async def reissue_token(
    *, session: AsyncSession, settings: Settings, clock: Clock, principal: Principal, person_id: int
) -> CalendarTokenOut:
    """Staff of the person's station (or the volunteer themself) get a new address; old ones stop."""
    await get_person(session=session, principal=principal, person_id=person_id)
    version = await bump_token_version(session, person_id, Person.calendar_token_version)
    token = feed_token(settings, clock, person_id=person_id, version=version)
    url, webcal_url = feed_urls(settings, person_id, token)
    return CalendarTokenOut(token=token, url=url, webcal_url=webcal_url)


async def feed_person(
    *, session: AsyncSession, settings: Settings, clock: Clock, person_id: int, token: str
) -> Person:
    """The person whose current token this is. A forged token answers 401; a revoked token or one
    for another person answers 404, so old addresses reveal nothing."""
    claims = verify(settings.secret_key.get_secret_value(), PURPOSE, token, now=clock.now(), expiring=False)
    person = await session.get(Person, person_id)
    if (
        person is None
        or not person.is_active
        or claims.get("pid") != person_id
        or claims.get("ver") != person.calendar_token_version
    ):
        raise not_found("日历", "calendar", person_id)
    return person


async def feed_events(
    session: AsyncSession, clock: Clock, person_id: int
) -> list[tuple[Event, SignupStatus]]:
    """The person's events in the feed, each with the status of their place in it."""
    stmt = (
        select(Event, Signup.status)
        .join(Signup, Signup.event_id == Event.id)
        .where(
            Signup.person_id == person_id,
            Signup.status.in_(LIVE_SIGNUP_STATUSES),
            Event.status != EventStatus.draft,
            Event.ends_at >= clock.now() - FEED_HISTORY,
        )
        .order_by(Event.starts_at, Event.id)
        .limit(FEED_MAX_EVENTS)
    )
    return [(event, SignupStatus(status)) for event, status in await session.execute(stmt)]


@router.post(
    "/people/{person_id}/calendar-token",
    response_model=CalendarTokenOut,
    summary="Issue a new calendar-feed address (revokes the old ones)",
)
async def issue_calendar_token(
    person_id: Id, session: SessionDep, settings: SettingsDep, clock: ClockDep, principal: PrincipalDep
) -> CalendarTokenOut:
    return await reissue_token(
        session=session, settings=settings, clock=clock, principal=principal, person_id=person_id
    )


@router.get(
    "/people/{person_id}/calendar.ics",
    response_class=Response,
    summary="A person's events as a subscribable iCalendar feed",
    responses={200: {"content": {"text/calendar": {}}, "description": "RFC 5545 calendar"}},
)
async def calendar_feed(
    person_id: Id,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str, Query(max_length=2000, description="The token of the feed address")],
) -> Response:
    person = await feed_person(
        session=session, settings=settings, clock=clock, person_id=person_id, token=token
    )
    entries = await feed_events(session, clock, person.id)
    events = [event for event, _ in entries]
    zones = await station_zones(session, [person.station_id, *(e.station_id for e in events)])
    tentative = {event.id for event, status in entries if status in TENTATIVE_SIGNUPS}
    body = render_calendar(
        events, zones, now=clock.now(), name=f"{person.name}的志愿活动", tentative=tentative
    )
    return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": "private, max-age=300"})
