"""Inside WeChat (a ``MicroMessenger`` browser), a volunteer page goes through official-account
web authorization against a fake WeChat: the first time the volunteer proves their phone and the
openid is bound, the next time WeChat alone signs them in, and they can unbind; a forged callback
is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from coordinator.app import create_app
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker
from coordinator.migrate import upgrade
from coordinator.people.models import Person
from coordinator.settings import Settings
from tests.conftest import TEST_SECRET, _run
from tests.e2e.conftest import (
    CONSOLE,
    _free_port,
    last_code_sent_to,
    needs_chromium,
    open_tab,
    serve_in_thread,
)
from tests.factories import create_person, create_station
from tests.notify.fake_wechat import FakeWechat

pytestmark = needs_chromium
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0 "
    "Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230405 MicroMessenger/8.0.35.2360 NetType/WIFI"
)
OPENID = "o-web-volunteer"


@dataclass(frozen=True)
class Site:
    base_url: str
    database_url: str
    phone: str
    fake: FakeWechat


async def _seed(url: str) -> str:
    engine = create_engine(url)
    await upgrade(engine)
    clock = SystemClock()
    async with create_sessionmaker(engine)() as session, session.begin():
        station = await create_station(session, clock, name="乌东社工站")
        phone = (await create_person(session, clock, station, name="潘阿花")).phone
    await engine.dispose()
    return phone


async def _openid_of(url: str, phone: str) -> str | None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        openid = await session.scalar(select(Person.wechat_openid).where(Person.phone == phone))
    await engine.dispose()
    return openid


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    database_url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('wechat')) / 'coordinator.db'}"
    phones: list[str] = []

    async def seed() -> None:
        phones.append(await _seed(database_url))

    _run(seed())
    fake = FakeWechat()
    wechat_port, port = _free_port(), _free_port()
    wechat_url, base_url = f"http://127.0.0.1:{wechat_port}", f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        public_base_url=base_url,
        scheduler_enabled=False,
        log_json=False,
        debug=True,
        wechat_app_id=fake.app_id,
        wechat_app_secret=SecretStr(fake.secret),
        wechat_mode="official_account",
        wechat_base_url=wechat_url,
        wechat_oauth_url=wechat_url,
    )
    app = create_app(settings, channels={"sms": CONSOLE, "console": CONSOLE})
    with serve_in_thread(fake.app(), wechat_port), serve_in_thread(app, port):
        yield Site(base_url, database_url, phones[0], fake)


def openid_of(site: Site) -> str | None:
    found: list[str | None] = []

    async def read() -> None:
        found.append(await _openid_of(site.database_url, site.phone))

    _run(read())
    return found[0]


def test_wechat_binds_after_the_sms_code_then_signs_in_alone(site: Site, browser: Any) -> None:
    site.fake.authorizing = OPENID
    first = open_tab(browser, site.base_url, phone=True, user_agent=WECHAT_UA)
    page = first.page
    page.goto("/web/m")
    # Through WeChat's authorization page and back: nobody is bound to this openid yet.
    page.wait_for_url(re.compile(r"/web/otp\?next="))
    assert openid_of(site) is None
    page.get_by_label("手机号").fill(site.phone)
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("验证码").fill(last_code_sent_to(site.phone))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/web/m$"))
    first.shot("wechat-01-bound")
    assert openid_of(site) == OPENID

    again = open_tab(browser, site.base_url, phone=True, user_agent=WECHAT_UA)
    again.page.goto("/web/m")
    # The browser keeps the authorization URL's "#wechat_redirect" through the redirects.
    again.page.wait_for_url(re.compile(r"/web/m(#wechat_redirect)?$"))
    assert again.page.get_by_role("button", name=re.compile("退出")).count() == 1
    again.shot("wechat-02-signed-in")

    # The volunteer unbinds on their page: WeChat no longer signs them in, messages go by SMS.
    again.page.goto("/web/m/mine")
    again.page.get_by_role("button", name="解除微信绑定").click()
    again.page.get_by_text("已解除微信绑定").wait_for()
    assert openid_of(site) is None
    assert first.errors == again.errors == []


def test_a_forged_callback_is_refused(site: Site, browser: Any) -> None:
    forged = open_tab(browser, site.base_url, phone=True, user_agent=WECHAT_UA)
    code = site.fake.login_code(OPENID)
    answer = forged.page.goto(f"/web/wechat/callback?code={code}&state=forged")
    assert answer is not None
    assert answer.status == 403
    assert "微信登录校验失败" in forged.page.content()
    # Nobody was signed in: the volunteer page still asks to log in (outside WeChat: by phone).
    plain = forged.page.context.browser.new_context(base_url=site.base_url).new_page()
    plain.goto("/web/m")
    assert "/web/otp" in plain.url
