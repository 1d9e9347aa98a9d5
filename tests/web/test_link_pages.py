"""Pages opened from links and codes: answering an invitation without logging in, and the
organizer's scan of a volunteer's own QR code."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance, AttendanceMethod
from coordinator.attendance.tokens import person_token
from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.events.models import Signup, SignupSource, SignupStatus
from coordinator.events.signups import invitations
from coordinator.settings import Settings
from tests.factories import create_event, create_person, create_station, create_user
from tests.web.browsing import csrf_of, log_in


async def test_an_invitation_is_answered_from_its_link_without_logging_in(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
) -> None:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        event = await create_event(session, clock, station, title="非遗芦笙课堂")
        person = await create_person(session, clock, station, name="龙阿妹")
        signup, token = await invitations.invite(
            session,
            clock,
            settings,
            event_id=event.id,
            person_id=person.id,
            role_id=None,
            source=SignupSource.organizer,
        )
        signup_id = signup.id
    path = f"/web/invitation?{urlencode({'token': token})}"
    page = await client.get(path)
    assert page.status_code == 200
    assert "龙阿妹" in page.text
    assert "非遗芦笙课堂" in page.text
    csrf = await csrf_of(client, path)
    answer = await client.post("/web/invitation", data={"_csrf": csrf, "token": token, "answer": "accept"})
    assert answer.status_code == 303
    async with sessionmaker() as session:
        stored = await session.get(Signup, signup_id)
        assert stored is not None
        assert stored.status == SignupStatus.confirmed
    assert "已接受邀请" in (await client.get(answer.headers["location"])).text


async def test_a_forged_invitation_link_is_an_error_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/web/invitation?token=forged")
    assert page.status_code == 422
    assert "邀请链接无效" in page.text


async def test_organizer_scans_a_volunteers_code_into_an_open_activity(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
) -> None:
    async with sessionmaker() as session, session.begin():
        station = await create_station(session, clock)
        await create_user(session, clock, Role.organizer, [station], username="scanner")
        soon = await create_event(session, clock, station, title="重阳敬老", starts_in=timedelta(minutes=30))
        await create_event(session, clock, station, title="下周活动")  # not open for check-in yet
        person = await create_person(session, clock, station, name="杨秀英")
        ids = (soon.id, person.id)
    token = person_token(settings.secret_key.get_secret_value(), ids[1], version=0, now=clock.now())
    await log_in(client, "scanner")
    path = f"/web/scan?{urlencode({'token': token})}"
    page = await client.get(path)
    assert "重阳敬老" in page.text
    assert "下周活动" not in page.text
    csrf = await csrf_of(client, path)
    answer = await client.post(
        "/web/scan", data={"_csrf": csrf, "token": token, "event_id": str(ids[0]), "walk_in": "on"}
    )
    assert answer.headers["location"] == f"/web/events/{ids[0]}"
    async with sessionmaker() as session:
        row = await session.scalar(select(Attendance).where(Attendance.event_id == ids[0]))
        assert row is not None
        assert row.person_id == ids[1]
        assert row.method == AttendanceMethod.qr
        assert row.walk_in
