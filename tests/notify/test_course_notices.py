"""Training courses through the notification pipeline: an invitation and the decision on an
application reach the person once, sent by the real dispatcher to a local fake gateway (SMS) or
SMTP server (email), on the channels the person consented to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from coordinator.notify.models import Notification, NotificationReason
from coordinator.notify.models import NotificationStatus as Status
from coordinator.settings import Settings
from tests.api.test_training import _answer, _course, _enrol, _session
from tests.notify.fake_sms import FakeAliyun
from tests.notify.replay import replay_to_notify_handlers
from tests.notify.test_email import RecordingHandler, start
from tests.notify.test_receipts import aliyun_settings, tick
from tests.regions import make_province, region_staff
from tests.world import Headers, World

pytestmark = pytest.mark.usefixtures("database_url")
Reason = NotificationReason
CODES = {"enrol_invite": "SMS_300001", "enrol_admit": "SMS_300002", "enrol_reject": "SMS_300003"}
TOPIC = "儿童福利社会工作能力提升班"


@pytest.fixture
def mailbox() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler()
    controller, port = start(handler)
    yield handler, port
    controller.stop()


@pytest.fixture
def settings(
    settings: Settings, aliyun: tuple[FakeAliyun, str], mailbox: tuple[RecordingHandler, int]
) -> Settings:
    """SMS by Aliyun (the fake) with a template for each course notice, and email by SMTP."""
    fake, url = aliyun
    update: dict[str, Any] = {
        "aliyun_sms_template_codes": CODES,
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox[1],
        "smtp_security": "none",
        "smtp_from": "凯里社工站 <noreply@station.example.cn>",
    }
    return aliyun_settings(settings, url, fake).model_copy(update=update)


async def _county_course(client: httpx.AsyncClient, world: World) -> tuple[int, Headers]:
    """A county's course with one session three days ahead, and the county's staff."""
    province = await make_province(world)
    county = await region_staff(world, province.county)
    course = await _course(client, county, province.county.id, topic=TOPIC)
    assert (await _session(client, world, county, course["id"], days=3)).status_code == 201
    return int(course["id"]), county


async def _send(world: World, settings: Settings, http: httpx.AsyncClient) -> None:
    await world.deliver_events()
    await tick(world, settings, http)


def _sms_params(fake: FakeAliyun) -> list[dict[str, str]]:
    return [json.loads(received.params["TemplateParam"]) for received in fake.received]


def test_every_reason_fits_its_column() -> None:
    length = Notification.__table__.c.reason.type.length  # type: ignore[attr-defined]
    assert all(len(reason.value) <= length for reason in NotificationReason)


async def test_an_invitation_is_sent_once_with_the_course_and_where_to_answer(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
) -> None:
    fake, _ = aliyun
    course_id, county = await _county_course(client, world)
    person = await world.person()
    invited = await _enrol(client, course_id, person, "invitations", county)
    assert invited.status_code == 201

    await _send(world, settings, http)

    [row] = await world.notifications(reason=Reason.enrol_invite)
    assert (row.person_id, row.channel, row.status) == (person.id, "sms", Status.sent)
    assert row.plan_key == f"enrolment:n{invited.json()['id']}:invited"
    assert [received.params["TemplateCode"] for received in fake.received] == ["SMS_300001"]
    link = f"{settings.public_base_url}/web/m/courses/{course_id}"
    # The session starts three days ahead: 10:00 in Kaili on Wednesday 2 December.
    assert _sms_params(fake) == [
        {"title": TOPIC, "organizer": "county", "time": "12月2日（周三）10:00",
         "place": "凯里市民政局会议室", "link": link}
    ]  # fmt: skip
    assert "回复是否参加" in row.payload["text"]

    await replay_to_notify_handlers(world, settings)
    await _send(world, settings, http)

    assert [r.id for r in await world.notifications(reason=Reason.enrol_invite)] == [row.id]
    assert len(fake.received) == 1


async def test_an_invitation_answered_before_its_notice_went_is_not_sent(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
) -> None:
    fake, _ = aliyun
    course_id, county = await _county_course(client, world)
    person = await world.person()
    await _enrol(client, course_id, person, "invitations", county)
    await world.deliver_events()
    assert (await _answer(client, course_id, person, "decline", world.head)).status_code == 200

    await _send(world, settings, http)

    [row] = await world.notifications(reason=Reason.enrol_invite)
    assert (row.status, row.last_error) == (Status.cancelled, "invitation_answered")
    assert fake.received == []


async def test_an_approved_and_a_rejected_applicant_each_hear_which(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
) -> None:
    fake, _ = aliyun
    course_id, county = await _county_course(client, world)
    admitted, refused = await world.people(2)
    for person in (admitted, refused):
        await _enrol(client, course_id, person, "applications", world.organizer)
    await world.deliver_events()
    assert await world.notifications(person_id=admitted.id) == []  # applying tells nobody

    assert (await _answer(client, course_id, admitted, "approve", county)).status_code == 200
    assert (await _answer(client, course_id, refused, "reject", county)).status_code == 200
    await _send(world, settings, http)

    [admit] = await world.notifications(reason=Reason.enrol_admit)
    [reject] = await world.notifications(reason=Reason.enrol_reject)
    assert (admit.person_id, admit.status) == (admitted.id, Status.sent)
    assert (reject.person_id, reject.status) == (refused.id, Status.sent)
    assert f"“{TOPIC}”已通过审核" in admit.payload["text"]
    assert f"“{TOPIC}”未通过审核" in reject.payload["text"]
    assert sorted(received.params["TemplateCode"] for received in fake.received) == [
        "SMS_300002",
        "SMS_300003",
    ]
    assert {params["title"] for params in _sms_params(fake)} == {TOPIC}

    await replay_to_notify_handlers(world, settings)
    assert len(await world.notifications(reason=Reason.enrol_admit)) == 1
    assert len(await world.notifications(reason=Reason.enrol_reject)) == 1


async def test_a_person_is_sent_only_on_the_channels_they_consented_to(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    http: httpx.AsyncClient,
    aliyun: tuple[FakeAliyun, str],
    mailbox: tuple[RecordingHandler, int],
) -> None:
    fake, _ = aliyun
    handler, _ = mailbox
    course_id, county = await _county_course(client, world)
    by_email = await world.person(email="li.na@example.cn", consent_email=True, consent_sms=False)
    unreachable = await world.person(consent_sms=False)
    for person in (by_email, unreachable):
        await _enrol(client, course_id, person, "invitations", county)

    await _send(world, settings, http)

    [mailed] = await world.notifications(person_id=by_email.id)
    [silent] = await world.notifications(person_id=unreachable.id)
    assert (mailed.channel, mailed.status) == ("email", Status.sent)
    assert (silent.channel, silent.status) == ("none", Status.skipped)
    assert silent.last_error == "no_consented_channel"
    assert fake.received == []
    [delivered] = handler.delivered
    assert delivered.rcpt_tos == ["li.na@example.cn"]
    assert delivered.message["Subject"] == f"培训邀请：{TOPIC}"
