from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import icalendar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.events.models import EventStatus, SignupStatus
from coordinator.people.models import Person
from coordinator.security import sign
from tests.api.event_making import add_signup
from tests.conftest import TEST_SECRET
from tests.factories import create_event, create_person
from tests.world import World

KAILI = ZoneInfo("Asia/Shanghai")


def _parse(response: httpx.Response) -> icalendar.Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def _vevents(calendar: icalendar.Calendar) -> list[icalendar.Component]:
    return list(calendar.walk("VEVENT"))


async def test_event_ics_is_valid_rfc5545_with_the_station_zone(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        event = await create_event(
            session,
            clock,
            world.station,
            title="集体生日会, 我们共成长",
            location="儿童之家; 二楼",
            sequence=3,
        )
    calendar = _parse(await client.get(f"/api/v1/events/{event.id}.ics", headers=world.organizer))
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Asia/Shanghai"
    [vevent] = _vevents(calendar)
    assert vevent["UID"] == f"event-{event.id}@coordinator"
    assert vevent["SUMMARY"] == "集体生日会, 我们共成长"  # commas and semicolons escaped and restored
    assert vevent["LOCATION"] == "儿童之家; 二楼"
    assert vevent["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert vevent["DTEND"].params["TZID"] == "Asia/Shanghai"
    assert vevent.decoded("DTSTART") == event.starts_at
    assert vevent.decoded("DTSTART").utcoffset() == timedelta(hours=8)
    assert vevent.decoded("DTEND") == event.ends_at
    assert vevent.decoded("DTSTAMP") == clock.now()
    assert vevent["SEQUENCE"] == 3
    assert vevent["STATUS"] == "CONFIRMED"
    assert (
        b"DTSTART;TZID=Asia/Shanghai:20261206T100000"
        in (await client.get(f"/api/v1/events/{event.id}.ics", headers=world.organizer)).content
    )


async def test_event_ics_follows_reschedule_and_cancel(client: httpx.AsyncClient, world: World) -> None:
    body = {"station_id": world.station.id, "theme": "home_visit", "starts_at": "2026-12-12T09:00:00+08:00"}
    event = (await client.post("/api/v1/events", json=body, headers=world.organizer)).json()
    path = f"/api/v1/events/{event['id']}"
    await client.post(f"{path}/publish", headers=world.organizer)
    await client.post(
        f"{path}/reschedule", json={"starts_at": "2026-12-13T09:00:00+08:00"}, headers=world.organizer
    )
    await client.post(f"{path}/cancel", json={"reason": "暴雨"}, headers=world.organizer)
    [vevent] = _vevents(_parse(await client.get(f"{path}.ics", headers=world.organizer)))
    assert vevent.decoded("DTSTART") == datetime(2026, 12, 13, 9, tzinfo=KAILI)
    assert vevent["SEQUENCE"] == 2
    assert vevent["STATUS"] == "CANCELLED"
    assert "暴雨" in str(vevent["DESCRIPTION"])


async def test_event_ics_access_follows_event_visibility(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        published = await create_event(session, clock, world.station)
        draft = await create_event(session, clock, world.station, status=EventStatus.draft)
    assert (
        await client.get(f"/api/v1/events/{published.id}.ics", headers=world.volunteer)
    ).status_code == 200
    assert (await client.get(f"/api/v1/events/{draft.id}.ics", headers=world.volunteer)).status_code == 404
    assert (
        await client.get(f"/api/v1/events/{published.id}.ics", headers=world.other_organizer)
    ).status_code == 404
    assert (await client.get(f"/api/v1/events/{published.id}.ics")).status_code == 401


# --- the subscription feed ------------------------------------------------------------------------


async def _issue(client: httpx.AsyncClient, person_id: int, headers: dict[str, str]) -> str:
    response = await client.post(f"/api/v1/people/{person_id}/calendar-token", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["webcal_url"].startswith("webcal://")
    url = urlsplit(body["url"])
    assert url.path == f"/api/v1/people/{person_id}/calendar.ics"
    assert parse_qs(url.query)["token"] == [body["token"]]
    token: str = body["token"]
    return token


async def _feed(client: httpx.AsyncClient, person_id: int, token: str) -> httpx.Response:
    return await client.get(f"/api/v1/people/{person_id}/calendar.ics", params={"token": token})


async def test_feed_lists_the_persons_live_signups_only(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    person = await world.person(name="杨秀英")
    async with sessionmaker() as session, session.begin():
        someone_else = await create_person(session, clock, world.station)
        events = {}
        for name, days in [
            ("confirmed", 3),
            ("waitlisted", 4),
            ("invited", 5),
            ("cancelled_signup", 6),
            ("cancelled_event", 7),
            ("draft", 8),
            ("long_ago", -200),
            ("not_mine", 9),
        ]:
            status = {"draft": EventStatus.draft, "cancelled_event": EventStatus.cancelled}.get(
                name, EventStatus.published
            )
            events[name] = await create_event(
                session, clock, world.station, title=name, starts_in=timedelta(days=days), status=status
            )
        signup_status = {
            "waitlisted": SignupStatus.waitlisted,
            "invited": SignupStatus.invited,
            "cancelled_signup": SignupStatus.cancelled,
        }
        for name, event in events.items():
            await add_signup(
                session,
                event_id=event.id,
                role_id=event.roles[0].id,
                person_id=someone_else.id if name == "not_mine" else person.id,
                status=signup_status.get(name, SignupStatus.confirmed),
            )
    token = await _issue(client, person.id, world.organizer)
    response = await _feed(client, person.id, token)
    calendar = _parse(response)
    summaries = [str(v["SUMMARY"]) for v in _vevents(calendar)]
    assert summaries == ["confirmed", "waitlisted", "invited", "cancelled_event"]
    statuses = {str(v["SUMMARY"]): str(v["STATUS"]) for v in _vevents(calendar)}
    # A place the person waits for or is invited to is not theirs yet (RFC 5545 TENTATIVE).
    assert statuses == {
        "confirmed": "CONFIRMED",
        "waitlisted": "TENTATIVE",
        "invited": "TENTATIVE",
        "cancelled_event": "CANCELLED",
    }
    assert [z["TZID"] for z in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert "杨秀英" in str(calendar["X-WR-CALNAME"])


async def test_reissuing_the_token_revokes_the_old_address(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    yang = await world.person(name="杨秀英")
    first = await _issue(client, yang.id, world.organizer)
    assert (await _feed(client, yang.id, first)).status_code == 200
    second = await _issue(client, yang.id, world.admin)
    revoked = await _feed(client, yang.id, first)
    assert revoked.status_code == 404
    assert (await _feed(client, yang.id, second)).status_code == 200
    async with sessionmaker() as session:
        person = await session.get(Person, yang.id)
        assert person is not None
        assert person.calendar_token_version == 2


async def test_forged_foreign_and_wrong_purpose_tokens_are_refused(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    person = await world.person(name="杨秀英")
    async with sessionmaker() as session, session.begin():
        other_person = await create_person(session, clock, world.station)
    forged = sign(
        "not-our-secret-0123456789abcdefghijklmnop",
        "calendar",
        {"pid": person.id, "ver": 0},
        now=clock.now(),
    )
    assert (await _feed(client, person.id, forged)).status_code == 401
    assert (await _feed(client, person.id, "garbage")).status_code == 401
    wrong_purpose = sign(TEST_SECRET, "access", {"pid": person.id, "ver": 0}, now=clock.now())
    assert (await _feed(client, person.id, wrong_purpose)).status_code == 401
    theirs = await _issue(client, other_person.id, world.organizer)
    assert (await _feed(client, person.id, theirs)).status_code == 404
    assert (await _feed(client, 999999, theirs)).status_code == 404
    missing = await client.get(f"/api/v1/people/{person.id}/calendar.ics")
    assert missing.status_code == 422


async def test_token_never_expires(client: httpx.AsyncClient, world: World, clock: FixedClock) -> None:
    person = await world.person(name="杨秀英")
    token = await _issue(client, person.id, world.organizer)
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    assert (await _feed(client, person.id, token)).status_code == 200


async def test_only_staff_of_the_station_or_the_person_issue_tokens(
    client: httpx.AsyncClient, world: World
) -> None:
    person = await world.person(name="杨秀英")
    denied = await client.post(f"/api/v1/people/{person.id}/calendar-token", headers=world.other_organizer)
    assert denied.status_code == 404
    own_login = await world.volunteer_headers(person)
    own = await client.post(f"/api/v1/people/{person.id}/calendar-token", headers=own_login)
    assert own.status_code == 200
