"""Volunteers sign in from the mini program with a wx.login code: binding WeChat once after the
SMS code, then by WeChat alone; unbinding; reporting subscribe-message acceptances. Staff see
whether a person is bound, never the openid."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from coordinator.auth.wechat import WechatLogin
from coordinator.db import transaction
from coordinator.notify.channels import Channel, ConsoleChannel
from coordinator.notify.subscriptions import remaining
from coordinator.people.models import Person
from coordinator.settings import Settings, WechatTemplate
from tests.api.test_otp import code_sent_to
from tests.conftest import RECEIPT_TOKEN, TEST_SECRET
from tests.notify.fake_server import serve
from tests.notify.fake_wechat import FakeWechat
from tests.world import World, error_code

pytestmark = pytest.mark.usefixtures("database_url")
LOGIN = "/api/v1/auth/wechat/miniprogram"
OPENID = "o-mini-volunteer"
TEMPLATE = WechatTemplate(id="TPL-R", data={"thing1": "title"}, page="pages/event/index")


@pytest.fixture
async def wechat() -> AsyncIterator[tuple[FakeWechat, str]]:
    fake = FakeWechat()
    async with serve(fake) as url:
        yield fake, url


@pytest.fixture
def settings(database_url: str, wechat: tuple[FakeWechat, str]) -> Settings:
    fake, url = wechat
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        scheduler_enabled=False,
        log_json=False,
        debug=True,
        notify_receipt_token=RECEIPT_TOKEN,
        wechat_app_id=fake.app_id,
        wechat_app_secret=SecretStr(fake.secret),
        wechat_mode="mini_program",
        wechat_templates={"reminder": TEMPLATE},
        wechat_base_url=url,
    )


@pytest.fixture
def console() -> ConsoleChannel:
    return ConsoleChannel()


@pytest.fixture
def channels(console: ConsoleChannel) -> dict[str, Channel]:
    return {"sms": console, "console": console}


async def bind_by_phone(
    client: httpx.AsyncClient, fake: FakeWechat, console: ConsoleChannel, person: Person
) -> httpx.Response:
    first = await client.post(LOGIN, json={"code": fake.login_code(OPENID)})
    assert (first.status_code, error_code(first)) == (401, "wechat_not_bound")
    await client.post("/api/v1/auth/otp/request", json={"phone": person.phone})
    return await client.post(
        LOGIN,
        json={
            "code": fake.login_code(OPENID),
            "phone": person.phone,
            "otp_code": code_sent_to(console, person.phone),
        },
    )


async def openid_of(app: FastAPI, person_id: int) -> str | None:
    async with app.state.sessionmaker() as session:
        person = await session.get(Person, person_id)
        return person.wechat_openid if person else None


async def test_the_first_login_binds_after_the_sms_code_and_later_wechat_alone_signs_in(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    wechat: tuple[FakeWechat, str],
    console: ConsoleChannel,
) -> None:
    fake, _ = wechat
    person = await world.person()

    bound = await bind_by_phone(client, fake, console, person)
    assert bound.status_code == 200, bound.text
    assert await openid_of(app, person.id) == OPENID

    again = await client.post(LOGIN, json={"code": fake.login_code(OPENID)})
    assert again.status_code == 200
    me = await client.get(
        f"/api/v1/people/{person.id}", headers={"Authorization": f"Bearer {again.json()['access_token']}"}
    )
    assert me.status_code == 200
    staff_view = await client.get(f"/api/v1/people/{person.id}", headers=world.organizer)
    assert staff_view.json()["wechat_bound"] is True
    assert OPENID not in staff_view.text


async def test_a_used_or_unknown_code_is_refused(
    client: httpx.AsyncClient, world: World, wechat: tuple[FakeWechat, str], console: ConsoleChannel
) -> None:
    fake, _ = wechat
    await bind_by_phone(client, fake, console, await world.person())
    code = fake.login_code(OPENID)
    assert (await client.post(LOGIN, json={"code": code})).status_code == 200
    used = await client.post(LOGIN, json={"code": code})
    assert (used.status_code, error_code(used)) == (401, "wechat_code_invalid")


async def test_a_wrong_sms_code_binds_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    wechat: tuple[FakeWechat, str],
    console: ConsoleChannel,
) -> None:
    fake, _ = wechat
    person = await world.person()
    await client.post("/api/v1/auth/otp/request", json={"phone": person.phone})
    wrong = await client.post(
        LOGIN, json={"code": fake.login_code(OPENID), "phone": person.phone, "otp_code": "000000"}
    )
    assert (wrong.status_code, error_code(wrong)) == (401, "otp_invalid")
    assert await openid_of(app, person.id) is None


async def test_subscriptions_are_kept_per_template_and_unbinding_forgets_them(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    wechat: tuple[FakeWechat, str],
    console: ConsoleChannel,
) -> None:
    fake, _ = wechat
    person = await world.person()
    token = (await bind_by_phone(client, fake, console, person)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    for answer, left in (("accept", 1), ("accept", 2), ("reject", 2), ("ban", 0), ("accept", 1)):
        reported = await client.post(
            "/api/v1/auth/wechat/subscriptions", json={"results": {TEMPLATE.id: answer}}, headers=headers
        )
        assert reported.json() == {"remaining": {TEMPLATE.id: left}}
    unknown = await client.post(
        "/api/v1/auth/wechat/subscriptions", json={"results": {"TPL-OTHER": "accept"}}, headers=headers
    )
    assert (unknown.status_code, error_code(unknown)) == (422, "unknown_template")

    assert (await client.delete("/api/v1/auth/wechat", headers=headers)).status_code == 204
    assert await openid_of(app, person.id) is None
    async with transaction(app.state.sessionmaker) as session:
        assert await remaining(session, OPENID) == {}
    after = await client.post(LOGIN, json={"code": fake.login_code(OPENID)})
    assert (after.status_code, error_code(after)) == (401, "wechat_not_bound")


async def test_staff_cannot_report_subscriptions(client: httpx.AsyncClient, world: World) -> None:
    refused = await client.post(
        "/api/v1/auth/wechat/subscriptions",
        json={"results": {TEMPLATE.id: "accept"}},
        headers=world.organizer,
    )
    assert refused.status_code == 403


async def test_mini_program_login_is_off_in_official_account_mode(
    client: httpx.AsyncClient, settings: Settings, app: FastAPI
) -> None:
    app.state.settings = settings.model_copy(update={"wechat_mode": "official_account"})
    # The login object was built from the settings at start-up: build the official-account one.
    app.state.wechat_login = WechatLogin(settings=app.state.settings)
    refused = await client.post(LOGIN, json={"code": "x"})
    assert (refused.status_code, error_code(refused)) == (404, "wechat_disabled")
