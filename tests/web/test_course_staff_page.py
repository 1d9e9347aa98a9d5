"""The organizer's course page without a browser: applications approved and rejected and an
invitation sent from the page, through the enrolment rules and on to the notices; a refused
invitation is a 4xx page that stores nothing; staff of a station below see the course read-only,
a station head of another county gets the 404 page; the training page links the year's courses."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from coordinator.auth.models import Role
from coordinator.db import transaction
from coordinator.events.models import SignupStatus
from coordinator.masking import mask_phone
from coordinator.notify.models import NotificationReason as Reason
from coordinator.people.models import Person
from coordinator.training.models import Enrolment
from tests.api.test_training import _enrol
from tests.factories import create_user
from tests.web.browsing import log_in
from tests.web.test_course_page import TOPIC, _county_course
from tests.world import World


async def _staff_course(client: httpx.AsyncClient, world: World) -> tuple[dict[str, Any], int, str]:
    """The county's course with a session three days ahead, the session's event, and the CSRF
    token of the county's staff member signed in to the pages."""
    course, event_id, _ = await _county_course(client, world)
    async with transaction(world.sessionmaker) as session:
        await create_user(
            session, world.clock, Role.organizer, region_id=course["region_id"], username="county"
        )
    return course, event_id, await log_in(client, "county")


async def _statuses(world: World) -> dict[int, str]:
    async with world.sessionmaker() as session:
        return {e.person_id: e.status for e in await session.scalars(select(Enrolment))}


async def test_the_organizer_approves_one_application_and_rejects_another_from_the_page(
    client: httpx.AsyncClient, world: World
) -> None:
    admitted, refused = await world.people(2)
    course, event_id, csrf = await _staff_course(client, world)
    for person in (admitted, refused):
        assert (
            await _enrol(client, course["id"], person, "applications", world.organizer)
        ).status_code == 201
    path = f"/web/training/courses/{course['id']}"

    page = await client.get(path)

    assert page.status_code == 200
    shown = [
        TOPIC,
        "主办单位: county",
        "一线社会工作者",
        "凯里市民政局会议室",
        f'href="/web/events/{event_id}"',  # the session's event page, for check-in
        admitted.name,
        str(mask_phone(admitted.phone)),
        f'action="{path}/enrolments/{refused.id}/reject"',
    ]
    assert [text for text in shown if text not in page.text] == []
    assert admitted.phone not in page.text  # county staff see no volunteer's full phone
    for person, action in ((admitted, "approve"), (refused, "reject")):
        answer = await client.post(f"{path}/enrolments/{person.id}/{action}", data={"_csrf": csrf})
        assert (answer.status_code, answer.headers["location"]) == (303, path)
    assert await _statuses(world) == {admitted.id: "enrolled", refused.id: "rejected"}
    assert await world.status_of(event_id, admitted.id) == [SignupStatus.confirmed]
    assert await world.status_of(event_id, refused.id) == []
    await world.deliver_events()
    [admit] = await world.notifications(reason=Reason.enrol_admit)
    [reject] = await world.notifications(reason=Reason.enrol_reject)
    assert (admit.person_id, reject.person_id) == (admitted.id, refused.id)
    after = await client.get(path)
    assert "已录取学员 (1)" in after.text
    assert "已婉拒、未录取或已退出 (1)" in after.text
    assert f"/enrolments/{admitted.id}/approve" not in after.text
    again = await client.post(f"{path}/enrolments/{refused.id}/approve", data={"_csrf": csrf})
    assert (again.status_code, "报名状态为 rejected，不能审批" in again.text) == (409, True)


async def test_an_invitation_from_the_page_is_sent_and_one_outside_the_area_stores_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    invitee = await world.person()
    outsider = await world.person(station=world.other)
    course, _, csrf = await _staff_course(client, world)
    path = f"/web/training/courses/{course['id']}"
    page = await client.get(path)
    assert f'<option value="{invitee.id}">' in page.text
    assert f'<option value="{outsider.id}">' not in page.text  # only people below the organizer

    async def invite(person: Person, trainee_class: str = "social_worker") -> httpx.Response:
        form = {"_csrf": csrf, "person_id": str(person.id), "trainee_class": trainee_class}
        return await client.post(f"{path}/invite", data=form)

    sent = await invite(invitee)
    assert (sent.status_code, sent.headers["location"]) == (303, path)
    assert "邀请已发出" in (await client.get(path)).text
    await world.deliver_events()
    [notice] = await world.notifications(reason=Reason.enrol_invite)
    assert notice.person_id == invitee.id
    before = await _statuses(world)

    outside = await invite(outsider)
    twice = await invite(invitee)
    untargeted = await invite(invitee, "department_official")

    assert (outside.status_code, "此人不属于主办单位辖下的服务站" in outside.text) == (422, True)
    assert (twice.status_code, "此人已被邀请或已报名此培训班" in twice.text) == (409, True)
    assert untargeted.status_code == 422
    assert await _statuses(world) == before == {invitee.id: "invited"}
    await world.deliver_events()
    assert len(await world.notifications(reason=Reason.enrol_invite)) == 1


async def test_a_station_below_sees_the_course_read_only_and_another_county_gets_404(
    client: httpx.AsyncClient, world: World
) -> None:
    applicant = await world.person()
    course, _, _ = await _staff_course(client, world)
    await _enrol(client, course["id"], applicant, "applications", world.organizer)
    path = f"/web/training/courses/{course['id']}"
    listing = await client.get("/web/training")
    assert f'<a href="{path}">{TOPIC}</a>' in listing.text
    async with transaction(world.sessionmaker) as session:
        await create_user(session, world.clock, Role.station_head, [world.station], username="near")
        await create_user(session, world.clock, Role.station_head, [world.other], username="far")

    client.cookies.clear()
    csrf = await log_in(client, "near")
    near = await client.get(path)
    near_approve = await client.post(f"{path}/enrolments/{applicant.id}/approve", data={"_csrf": csrf})
    client.cookies.clear()
    csrf = await log_in(client, "far")
    far = await client.get(path)
    far_approve = await client.post(f"{path}/enrolments/{applicant.id}/approve", data={"_csrf": csrf})
    far_listing = await client.get("/web/training")

    assert (near.status_code, TOPIC in near.text, applicant.name in near.text) == (200, True, False)
    assert "报名名单和审核由主办单位工作人员管理" in near.text
    assert near_approve.status_code == 404
    assert (far.status_code, f"培训班不存在：{course['id']}" in far.text) == (404, True)
    assert far_approve.status_code == 404
    assert path not in far_listing.text
    assert await _statuses(world) == {applicant.id: "applied"}
