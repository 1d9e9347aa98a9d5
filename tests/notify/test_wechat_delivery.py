"""Messages planned through the real bus reach volunteers by WeChat (mini program subscribe
messages) against a fake that refuses what WeChat refuses, and by SMS when WeChat cannot."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from coordinator.db import transaction
from coordinator.events.models import Event, SignupSource
from coordinator.events.signups.invitations import invite
from coordinator.notify.channels import Channel, build_channels
from coordinator.notify.dispatcher import dispatch_due
from coordinator.notify.models import NotificationStatus as Status
from coordinator.notify.subscriptions import record_results
from coordinator.people.models import Person
from coordinator.settings import WECHAT_KINDS, Settings, WechatTemplate
from tests.conftest import TEST_SECRET
from tests.notify.fake_wechat import FakeTemplate, FakeWechat
from tests.notify.scripted import ScriptedChannel
from tests.notify.test_planning import _reschedule
from tests.world import World

pytestmark = pytest.mark.usefixtures("database_url")

# Real templates differ by kind in their keys; these do too, and the fake knows each one's keys.
TEMPLATES = {
    kind: WechatTemplate(
        id=f"TPL-{kind}",
        data={"thing1": "title", "time2": "time", "thing3": "place", "phrase4": "status"}
        if kind != "invited"
        else {"thing2": "title", "date3": "time", "character_string5": "token"},
        page="pages/invitation/index" if kind == "invited" else "pages/event/index",
    )
    for kind in WECHAT_KINDS
}


@pytest.fixture
def settings(database_url: str, wechat: tuple[FakeWechat, str]) -> Settings:
    fake, url = wechat
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        scheduler_enabled=False,
        log_json=False,
        debug=True,
        wechat_app_id=fake.app_id,
        wechat_app_secret=SecretStr(fake.secret),
        wechat_mode="mini_program",
        wechat_templates=TEMPLATES,
        wechat_base_url=url,
    )


class Delivery:
    def __init__(self, world: World, settings: Settings, http: httpx.AsyncClient) -> None:
        self.world, self.settings = world, settings
        self.sms = ScriptedChannel("sms")
        built = build_channels(settings, http, world.sessionmaker, clock=world.clock)
        self.channels: dict[str, Channel] = {"sms": self.sms, "wechat": built["wechat"]}

    async def run(self) -> None:
        """Two rounds: a message WeChat cannot take goes by SMS in the second."""
        await self.world.deliver_events()
        for _ in range(2):
            await dispatch_due(
                sessionmaker=self.world.sessionmaker,
                clock=self.world.clock,
                settings=self.settings,
                channels=self.channels,
                rng=random.Random(1),
            )


async def bound(world: World, fake: FakeWechat, openid: str, *accepted: str) -> Person:
    person = await world.person(wechat_openid=openid, consent_wechat=True, channel_order=["wechat", "sms"])
    user = fake.user(openid)
    async with transaction(world.sessionmaker) as session:
        for kind in accepted:
            user.subscriptions[TEMPLATES[kind].id] += 1  # what WeChat counts …
            results = {TEMPLATES[kind].id: "accept"}  # … and what the mini program reports to us
            await record_results(session, openid=openid, results=results, now=world.clock.now())
    return person


async def sent_by(world: World, person: Person) -> list[tuple[str, str]]:
    rows = await world.notifications(person_id=person.id)
    return sorted((row.reason, row.channel) for row in rows if row.status == Status.sent)


async def test_reminder_change_and_invitation_reach_a_bound_volunteer_by_wechat(
    world: World, settings: Settings, http: httpx.AsyncClient, wechat: tuple[FakeWechat, str]
) -> None:
    fake, _ = wechat
    for template in TEMPLATES.values():
        fake.templates[template.id] = FakeTemplate(keys=tuple(template.data), pages=(template.page,))
    delivery = Delivery(world, settings, http)
    event: Event = await world.event(
        title="重阳节敬老院慰问演出暨志愿者联谊活动（第二场）", reminder_offsets=["PT2H"]
    )
    other = await world.event(starts_in=timedelta(days=9))
    volunteer = await bound(world, fake, "o-bound", "reminder", "changed", "invited")
    exhausted = await bound(world, fake, "o-exhausted")
    unbound = await world.person(consent_wechat=True, channel_order=["wechat", "sms"])
    for person in (volunteer, exhausted, unbound):
        await world.sign_up(event, person)
    async with transaction(world.sessionmaker) as session:
        await invite(
            session,
            world.clock,
            settings,
            event_id=other.id,
            person_id=volunteer.id,
            role_id=None,
            source=SignupSource.organizer,
        )
    await delivery.run()
    await _reschedule(world, event, timedelta(hours=1))
    await delivery.run()
    [reminder] = await world.notifications(person_id=volunteer.id, reason="reminder")
    world.clock.set(reminder.due_at)
    await delivery.run()

    assert fake.refused == []
    kinds = sorted(sent.body["template_id"] for sent in fake.sent)
    assert kinds == ["TPL-changed", "TPL-invited", "TPL-reminder"]
    assert {sent.body["touser"] for sent in fake.sent} == {"o-bound"}
    invitation = next(sent.body for sent in fake.sent if sent.body["template_id"] == "TPL-invited")
    assert invitation["page"].startswith("pages/invitation/index?token=")
    for person in (volunteer, exhausted, unbound):
        rows = await world.notifications(person_id=person.id)
        sent = sorted((row.reason, row.channel) for row in rows if row.status == Status.sent)
        channel = "wechat" if person is volunteer else "sms"
        expected = [("changed", channel), ("reminder", channel)]
        assert sent == (
            [("changed", "wechat"), ("invited", "wechat"), ("reminder", "wechat")]
            if person is volunteer
            else expected
        )
    assert {m.recipient for m in delivery.sms.sent} == {exhausted.phone, unbound.phone}
