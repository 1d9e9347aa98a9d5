"""The web pages without a browser: sessions, CSRF, headers, errors as pages, and the forms that
change things (each on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.auth.models import Role
from coordinator.clock import FixedClock
from coordinator.db import transaction
from coordinator.events.models import Event, EventStatus
from coordinator.events.themes import BUILTIN_THEMES
from coordinator.people.models import Person
from coordinator.web.headers import CONTENT_SECURITY_POLICY
from tests.factories import PASSWORD, create_event, create_person, create_signup, create_user
from tests.sheets import csv_bytes, xlsx
from tests.web.browsing import CSRF_INPUT, csrf_of, log_in
from tests.world import World


@pytest.fixture
async def site(world: World) -> dict[str, int]:
    """The world with an organizer who logs in as "org", a draft starting soon, an event of the
    other station, and a published event with 杨秀英 confirmed."""
    async with transaction(world.sessionmaker) as session:
        clock = world.clock
        await create_user(session, clock, Role.organizer, [world.station], username="org")
        event = await create_event(
            session, clock, world.station, status=EventStatus.draft, published_at=None,
            starts_in=timedelta(hours=2),
        )  # fmt: skip
        foreign = await create_event(session, clock, world.other)
        person = await create_person(session, clock, world.station, name="杨秀英")
        published = await create_event(session, clock, world.station, title="重阳节慰问")
        await create_signup(session, clock, published, person)
        return {
            "station": world.station.id,
            "draft": event.id,
            "foreign": foreign.id,
            "published": published.id,
            "person": person.id,
        }


async def _status(sessionmaker: async_sessionmaker[AsyncSession], event_id: int) -> str:
    async with sessionmaker() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        return str(event.status)


async def test_pages_carry_security_headers_and_the_api_keeps_its_own(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    page = await client.get("/web/login")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in page.text  # scripts only from files
    api = await client.get("/healthz")
    assert "content-security-policy" not in api.headers


async def test_login_sets_a_strict_session_cookie_and_pages_need_it(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    anonymous = await client.get("/web/calendar")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/web/login?next=%2Fweb%2Fcalendar"
    phone_page = await client.get("/web/m")
    assert phone_page.headers["location"].startswith("/web/otp?next=")
    page = await client.get("/web/login")
    token = CSRF_INPUT.search(page.text)
    assert token is not None
    answer = await client.post(
        "/web/login",
        data={"_csrf": token.group(1), "username": "org", "password": PASSWORD, "next": "//evil.example"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"  # no open redirect
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("coord_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the public address of the test app is plain http
    assert (await client.get("/web/calendar")).status_code == 200


async def test_wrong_password_shows_the_form_again_with_the_reason(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    token = await csrf_of(client, "/web/login")
    answer = await client.post("/web/login", data={"_csrf": token, "username": "org", "password": "nope"})
    assert answer.status_code == 401
    assert "用户名或密码错误" in answer.text
    assert "coord_session" not in answer.headers.get("set-cookie", "")


async def test_a_post_without_the_csrf_token_changes_nothing(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], site: dict[str, int]
) -> None:
    await log_in(client, "org")
    answer = await client.post(f"/web/events/{site['draft']}/publish", data={"_csrf": "forged" * 8})
    assert answer.status_code == 403
    assert "页面已过期" in answer.text
    assert await _status(sessionmaker, site["draft"]) == "draft"


async def test_publish_from_the_page(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], site: dict[str, int]
) -> None:
    token = await log_in(client, "org")
    answer = await client.post(f"/web/events/{site['draft']}/publish", data={"_csrf": token})
    assert answer.status_code == 303
    assert await _status(sessionmaker, site["draft"]) == "published"
    page = await client.get(answer.headers["location"])
    assert "活动已发布" in page.text


async def test_a_refused_change_leaves_the_event_as_it_was_and_says_why(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    site: dict[str, int],
) -> None:
    token = await log_in(client, "org")
    clock.set(clock.now() + timedelta(hours=3))  # the draft has started
    answer = await client.post(f"/web/events/{site['draft']}/publish", data={"_csrf": token})
    assert await _status(sessionmaker, site["draft"]) == "draft"
    page = await client.get(answer.headers["location"])
    assert "活动开始时间已过，不能发布" in page.text


async def test_another_stations_event_is_a_404_page(client: httpx.AsyncClient, site: dict[str, int]) -> None:
    await log_in(client, "org")
    answer = await client.get(f"/web/events/{site['foreign']}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "活动不存在" in answer.text


async def test_cancel_previews_the_confirmed_people_then_cancels(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], site: dict[str, int]
) -> None:
    token = await log_in(client, "org")
    preview = await client.get(f"/web/events/{site['published']}/cancel")
    assert "杨秀英" in preview.text
    answer = await client.post(
        f"/web/events/{site['published']}/cancel", data={"_csrf": token, "reason": "暴雨预警"}
    )
    assert answer.status_code == 303
    assert await _status(sessionmaker, site["published"]) == "cancelled"


async def test_english_switch_keeps_the_page(client: httpx.AsyncClient, site: dict[str, int]) -> None:
    token = await log_in(client, "org")
    answer = await client.post("/web/lang", data={"_csrf": token, "lang": "en", "next": "/web/people"})
    assert answer.headers["location"] == "/web/people"
    page = await client.get("/web/people")
    assert "Volunteers" in page.text
    assert 'lang="en"' in page.text


async def test_create_an_activity_from_a_theme_in_a_few_fields(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], site: dict[str, int]
) -> None:
    token = await log_in(client, "org")
    answer = await client.post(
        "/web/events/new",
        data={
            "_csrf": token,
            "station_id": str(site["station"]),
            "theme": "home_visit",
            "date": "2026-12-05",
            "time": "09:30",
            "location": "营盘坡",
        },
    )
    assert answer.status_code == 303
    event_id = int(answer.headers["location"].rsplit("/", 1)[1])
    async with sessionmaker() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        assert event.status == EventStatus.draft
        assert event.starts_at.isoformat() == "2026-12-05T01:30:00+00:00"  # 09:30 in Kaili
        assert event.title == BUILTIN_THEMES["home_visit"].name_zh
    page = await client.get("/web/calendar?month=2026-12")
    assert f"/web/events/{event_id}" in page.text


@pytest.mark.parametrize(
    ("calendar", "form"),
    [
        *(({"month": f"{year}-12"}, {"date": f"{year}-12-05"}) for year in ("0001", "1900", "9999")),
        *(({"station": ident}, {"station_id": ident}) for ident in (str(2**31), str(2**63), "一")),
    ],
)
async def test_calendar_and_form_refuse_dates_beyond_2000_to_2100_and_impossible_stations(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    site: dict[str, int],
    calendar: dict[str, str],
    form: dict[str, str],
) -> None:
    token = await log_in(client, "org")
    assert (await client.get("/web/calendar", params=calendar)).status_code == 422
    fields = {
        "station_id": str(site["station"]),
        "theme": "home_visit",
        "date": "2026-12-05",
        "time": "09:30",
    }
    answer = await client.post("/web/events/new", data={"_csrf": token, **fields, **form})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/web/events/new")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 3


async def test_calendar_marks_festivals_holidays_and_make_up_workdays(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    await log_in(client, "org")
    october = (await client.get("/web/calendar?month=2026-10")).text
    assert "重阳" in october  # 2026-10-18, lunar 9/9
    assert 'class="marker off"' in october  # 国庆节 days off
    assert 'class="marker work"' in october  # the Saturday worked to make up for them
    september = (await client.get("/web/calendar?month=2026-09")).text
    assert "中秋" in september  # 2026-09-25
    assert "重阳" not in september


async def test_import_lists_each_bad_row_and_stores_nothing(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], site: dict[str, int]
) -> None:
    token = await log_in(client, "org")
    rows = (["王芳", "13900001111"], ["李四", "12345"])
    content = xlsx(["姓名", "手机号"], *rows)
    answer = await client.post(
        "/web/people/import",
        data={"_csrf": token, "station_id": str(site["station"])},
        files={"file": ("people.xlsx", content)},
    )
    assert answer.status_code == 200
    assert re.search(r"<td>3</td><td>phone</td>", answer.text)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1  # only the seeded one
    partial = await client.post(
        "/web/people/import",
        data={"_csrf": token, "station_id": str(site["station"]), "partial": "on"},
        files={
            "file": ("people.csv", csv_bytes(["姓名", "手机号"], ["王芳", "13900001111"], ["李四", "12345"]))
        },
    )
    assert "新增 1" in partial.text
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 2


async def test_https_public_address_marks_cookies_secure(app: FastAPI, site: dict[str, int]) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"public_base_url": "https://coordinator.example"}
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
        page = await client.get("/web/login")
        cookie = next(h for h in page.headers.get_list("set-cookie") if h.startswith("coord_csrf="))
        assert "Secure" in cookie


async def test_people_search_and_edit_form(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], site: dict[str, int]
) -> None:
    token = await log_in(client, "org")
    found = await client.get(f"/web/people?station={site['station']}&q=秀英")
    assert "杨秀英" in found.text
    missing = await client.get(f"/web/people?station={site['station']}&q=无此人")
    assert "杨秀英" not in missing.text
    answer = await client.post(
        f"/web/people/{site['person']}/edit",
        data={
            "_csrf": token,
            "name": "杨秀英",
            "phone": "13812345678",
            "is_party_member": "on",
            "party_branch": "营盘坡社区党支部",
            "is_active": "on",
        },
    )
    assert answer.status_code == 303
    async with sessionmaker() as session:
        person = await session.get(Person, site["person"])
        assert person is not None
        assert person.is_party_member
        assert person.party_branch == "营盘坡社区党支部"
        assert person.phone == "+8613812345678"
    refused = await client.post(
        f"/web/people/{site['person']}/edit",
        data={"_csrf": token, "name": "杨秀英", "phone": "123", "is_active": "on"},
    )
    assert refused.headers["location"] == f"/web/people/{site['person']}/edit"
    async with sessionmaker() as session:
        unchanged = await session.get(Person, site["person"])
        assert unchanged is not None
        assert unchanged.phone == "+8613812345678"
        assert unchanged.is_party_member
