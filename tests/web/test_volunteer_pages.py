"""The volunteer's phone pages and the organizer's matching, without a browser."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance, AttendanceMethod, AttendanceStatus
from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.db import transaction
from coordinator.events.models import Signup, SignupStatus
from coordinator.security import sign
from coordinator.web.session import SESSION_COOKIE, SESSION_PURPOSE
from tests.factories import create_event, create_person, create_station, create_user, create_volunteer_login
from tests.web.browsing import csrf_of, log_in
from tests.world import World


def _log_in_as(client: httpx.AsyncClient, app: FastAPI, user_id: int) -> None:
    """A page session for ``user_id`` (the OTP form itself is covered by the browser tests)."""
    settings = app.state.settings
    token = sign(
        settings.secret_key.get_secret_value(),
        SESSION_PURPOSE,
        {"sub": str(user_id)},
        now=app.state.clock.now(),
        expires_in=timedelta(hours=1),
    )
    client.cookies.set(SESSION_COOKIE, token)


async def test_volunteer_signs_up_sees_it_in_my_activities_and_downloads_the_ics(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        event = await create_event(session, clock, station, title="端午慰问", location="村委会")
        person = await create_person(session, clock, station, name="杨秀英")
        user = await create_volunteer_login(session, clock, person)
        ids = (event.id, event.roles[0].id, person.id, user.id)
    _log_in_as(client, app, ids[3])
    upcoming = await client.get("/web/m")
    assert "端午慰问" in upcoming.text
    assert "剩余名额 5" in upcoming.text
    csrf = await csrf_of(client, f"/web/m/events/{ids[0]}")
    answer = await client.post(f"/web/m/events/{ids[0]}/signup", data={"_csrf": csrf, "role_id": str(ids[1])})
    assert answer.status_code == 303
    mine = await client.get("/web/m/mine")
    assert "端午慰问" in mine.text
    assert "已确认" in mine.text
    assert f"/api/v1/people/{ids[2]}/calendar.ics?token=" in mine.text
    ics = await client.get(f"/web/m/events/{ids[0]}/calendar.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in ics.text
    cancel = await client.post(f"/web/m/events/{ids[0]}/cancel", data={"_csrf": csrf})
    assert cancel.status_code == 303
    async with sessionmaker() as session:
        signup = await session.scalar(select(Signup).where(Signup.event_id == ids[0]))
        assert signup is not None
        assert signup.status == SignupStatus.cancelled


async def test_a_waiting_volunteers_ics_download_is_tentative(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    first, second = await world.people(2)
    await world.sign_up(event, first)
    await world.sign_up(event, second)
    assert await world.status_of(event.id, second.id) == [SignupStatus.waitlisted]
    async with transaction(world.sessionmaker) as session:
        user = await create_volunteer_login(session, world.clock, second)
    _log_in_as(client, app, user.id)
    ics = await client.get(f"/web/m/events/{event.id}/calendar.ics")
    assert ics.status_code == 200
    assert "STATUS:TENTATIVE" in ics.text
    assert "STATUS:CONFIRMED" not in ics.text


async def test_hours_page_counts_approved_attendance(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        event = await create_event(session, clock, station, title="重阳敬老", starts_in=timedelta(days=-3))
        person = await create_person(session, clock, station)
        user = await create_volunteer_login(session, clock, person)
        session.add(
            Attendance(
                event_id=event.id,
                person_id=person.id,
                station_id=station.id,
                status=AttendanceStatus.present,
                method=AttendanceMethod.roster,
                checked_in_at=event.starts_at,
                checked_out_at=event.ends_at,
                minutes=90,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        user_id = user.id
    _log_in_as(client, app, user_id)
    page = await client.get("/web/m/hours")
    assert 'data-testid="my-hours">1.5<' in page.text
    assert "重阳敬老" in page.text
    certificate = await client.get("/web/m/certificate")
    assert "累计服务时长 <strong>1.5</strong> 小时" in certificate.text


async def test_staff_are_refused_volunteer_pages_and_volunteers_staff_pages(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        person = await create_person(session, clock, station)
        user = await create_volunteer_login(session, clock, person)
        await create_user(session, clock, Role.organizer, [station], username="org2")
        user_id = user.id
    _log_in_as(client, app, user_id)
    assert (await client.get("/web/calendar")).status_code == 403
    client.cookies.clear()
    await log_in(client, "org2")
    assert (await client.get("/web/m")).status_code == 403


async def test_matching_proposals_show_reasons_and_are_accepted_from_the_page(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        await create_user(session, clock, Role.organizer, [station], username="matcher")
        event = await create_event(session, clock, station, roles=[{"name": "慰问志愿者", "count": 1}])
        person = await create_person(session, clock, station, name="吴晓梅")
        ids = (event.id, event.roles[0].id, person.id)
    await log_in(client, "matcher")
    page = await client.get(f"/web/events/{ids[0]}?match=1")
    assert page.status_code == 200
    assert "吴晓梅" in page.text
    assert 'name="proposal"' in page.text
    assert page.text.count('class="reasons"') >= 1
    csrf = await csrf_of(client, f"/web/events/{ids[0]}")
    chosen = f"{ids[2]}:{ids[1]}"
    assert f'value="{chosen}"' in page.text
    answer = await client.post(
        f"/web/events/{ids[0]}/match", data={"_csrf": csrf, "proposal": chosen, "mode": "confirm"}
    )
    assert answer.status_code == 303
    async with sessionmaker() as session:
        signup = await session.scalar(select(Signup).where(Signup.person_id == ids[2]))
        assert signup is not None
        assert signup.status == SignupStatus.confirmed
