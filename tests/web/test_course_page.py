"""The volunteer's course page without a browser: an invitation accepted or declined, an
application approved by the organizer and then withdrawn, all through the enrolment rules; a
volunteer outside the organizer's area sees nothing and changes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from coordinator.db import transaction
from coordinator.events.models import SignupStatus
from coordinator.people.models import Person
from coordinator.training.models import Enrolment
from tests.api.test_training import _answer, _course, _enrol, _session
from tests.factories import create_volunteer_login
from tests.regions import make_province, region_staff
from tests.web.browsing import csrf_of
from tests.web.test_volunteer_pages import _log_in_as
from tests.world import Headers, World

TOPIC = "儿童福利社会工作能力提升班"


async def _county_course(client: httpx.AsyncClient, world: World) -> tuple[dict[str, Any], int, Headers]:
    """The county's course (of ``world.station``) with one session three days ahead: the course,
    the session's event and the county's staff."""
    province = await make_province(world)
    county = await region_staff(world, province.county)
    course = await _course(client, county, province.county.id, topic=TOPIC)
    added = await _session(client, world, county, course["id"], days=3)
    assert added.status_code == 201, added.text
    return course, int(added.json()["event_id"]), county


async def _signed_in(client: httpx.AsyncClient, app: FastAPI, world: World, person: Person) -> None:
    async with transaction(world.sessionmaker) as session:
        user = await create_volunteer_login(session, world.clock, person)
    _log_in_as(client, app, user.id)


async def _post(client: httpx.AsyncClient, course_id: int, action: str, **form: str) -> httpx.Response:
    csrf = await csrf_of(client, f"/web/m/courses/{course_id}")
    answer = await client.post(f"/web/m/courses/{course_id}/{action}", data={"_csrf": csrf, **form})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/web/m/courses/{course_id}"
    return await client.get(answer.headers["location"])


async def _enrolments(world: World, person: Person) -> list[str]:
    async with world.sessionmaker() as session:
        return list(await session.scalars(select(Enrolment.status).where(Enrolment.person_id == person.id)))


async def test_an_invited_volunteer_accepts_and_is_signed_up_to_the_open_sessions(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    course, event_id, county = await _county_course(client, world)
    person = await world.person()
    assert (await _enrol(client, course["id"], person, "invitations", county)).status_code == 201
    await _signed_in(client, app, world, person)

    page = await client.get(f"/web/m/courses/{course['id']}")

    assert page.status_code == 200
    shown = (TOPIC, "主办单位: county", "李老师", "已报名 0 / 名额 2", "凯里市民政局会议室", "已受邀，待答复")
    assert [text for text in shown if text not in page.text] == []
    assert f'action="/web/m/courses/{course["id"]}/apply"' not in page.text
    accepted = await _post(client, course["id"], "accept")
    assert "已接受邀请" in accepted.text
    assert "已录取" in accepted.text
    assert f'action="/web/m/courses/{course["id"]}/withdraw"' in accepted.text
    assert await world.status_of(event_id, person.id) == [SignupStatus.confirmed]
    again = await _post(client, course["id"], "accept")  # refused by the rules, shown on the page
    assert again.status_code == 200
    assert "报名状态为 enrolled，不能答复" in again.text
    mine = await client.get("/web/m/mine")
    assert f'<a href="/web/m/courses/{course["id"]}">{TOPIC}</a>' in mine.text


async def test_a_declined_invitation_signs_up_to_nothing(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    course, event_id, county = await _county_course(client, world)
    person = await world.person()
    await _enrol(client, course["id"], person, "invitations", county)
    await _signed_in(client, app, world, person)

    declined = await _post(client, course["id"], "decline")

    assert "已婉拒邀请" in declined.text
    assert "<strong>已婉拒</strong>" in declined.text
    assert f"/web/m/courses/{course['id']}/accept" not in declined.text
    assert await world.status_of(event_id, person.id) == []
    assert await _enrolments(world, person) == ["declined"]


async def test_an_application_approved_by_the_organizer_shows_enrolled_and_can_be_withdrawn(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    course, event_id, county = await _county_course(client, world)
    person = await world.person()
    await _signed_in(client, app, world, person)
    page = await client.get(f"/web/m/courses/{course['id']}")
    assert '<option value="township_station_lead">乡镇（街道）社工站负责人</option>' in page.text

    applied = await _post(client, course["id"], "apply", trainee_class="social_worker")
    assert "已提交报名，等待主办单位审核" in applied.text
    assert "已报名，待审核" in applied.text
    approved = await _answer(client, course["id"], person, "approve", county)
    assert approved.json()["status"] == "enrolled"
    enrolled = await client.get(f"/web/m/courses/{course['id']}")
    assert "学员类别: 一线社会工作者 · <strong>已录取</strong>" in enrolled.text
    assert await world.status_of(event_id, person.id) == [SignupStatus.confirmed]

    withdrawn = await _post(client, course["id"], "withdraw")
    assert "已退出培训" in withdrawn.text
    assert await world.status_of(event_id, person.id) == [SignupStatus.cancelled]
    assert await _enrolments(world, person) == ["withdrawn"]


async def test_a_volunteer_outside_the_organizers_area_can_neither_see_nor_act(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    course, _, county = await _county_course(client, world)
    invitee = await world.person()
    await _enrol(client, course["id"], invitee, "invitations", county)
    outsider = await world.person(station=world.other)
    await _signed_in(client, app, world, outsider)
    path = f"/web/m/courses/{course['id']}"

    page = await client.get(path)
    csrf = await csrf_of(client, "/web/m")
    attempts = [
        await client.post(f"{path}/{action}", data={"_csrf": csrf, "trainee_class": "social_worker"})
        for action in ("apply", "accept", "withdraw")
    ]
    unknown = await client.post(f"{path}/approve", data={"_csrf": csrf})

    assert page.status_code == 404
    assert f"培训班不存在：{course['id']}" in page.text
    assert [a.status_code for a in attempts] == [303, 303, 303]
    assert (await client.get(path)).status_code == 404
    assert unknown.status_code == 404
    assert await _enrolments(world, outsider) == []
    assert await _enrolments(world, invitee) == ["invited"]


async def test_someone_not_signed_in_signs_in_by_phone_code_and_comes_back(
    client: httpx.AsyncClient, world: World
) -> None:
    course, _, _ = await _county_course(client, world)
    path = f"/web/m/courses/{course['id']}"

    answer = await client.get(path)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/web/otp?next={quote(path, safe='')}"
    sign_in = await client.get(answer.headers["location"])
    assert f'name="next" value="{path}"' in sign_in.text
