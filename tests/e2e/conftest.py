"""Browser tests: a real uvicorn server on a free port with a fresh SQLite database, driven by
Debian's Chromium through Playwright.

They skip, saying why, where ``/usr/bin/chromium`` is missing (a new machine); CI installs it
(``.ci/run``) so there they run. Screenshots go to ``tests/e2e/artifacts/`` (git-ignored)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.app import create_app
from coordinator.attendance.models import AttendanceStatus
from coordinator.auth.models import Role
from coordinator.clock import SystemClock
from coordinator.db import create_engine, create_sessionmaker
from coordinator.migrate import upgrade
from coordinator.notify.channels.console import ConsoleChannel
from coordinator.settings import Settings
from tests.conftest import TEST_SECRET, _run
from tests.factories import (
    PASSWORD,
    create_event,
    create_person,
    create_resident,
    create_station,
    create_user,
)
from tests.stats.history import write_attendance

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = (
    "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium fonts-noto-cjk)"
)
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE_VIEWPORT = {"width": 390, "height": 844}
# The test server's SMS channel: it keeps what it "sent" in memory, unmasked, for the tests to read.
CONSOLE = ConsoleChannel()


@dataclass(frozen=True)
class World:
    base_url: str
    station_id: int
    organizer: str
    head: str
    volunteer_phone: str
    volunteer_name: str
    second_phone: str
    second_name: str
    chart_head: str  # head of a second station whose activities of one day have 4 and 5 attendees
    chart_day: str
    visit_head: str  # head of a third station with two overdue 特困 residents, a social worker, a volunteer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _seed(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    await upgrade(engine)
    maker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    clock = SystemClock()
    async with maker() as session, session.begin():
        station = await create_station(session, clock, name="营盘坡社工站")
        organizer = await create_user(session, clock, Role.organizer, [station], username="organizer")
        head = await create_user(session, clock, Role.station_head, [station], username="head")
        person = await create_person(session, clock, station, name="杨秀英")
        second = await create_person(session, clock, station, name="龙阿妹")
        await create_resident(session, clock, station, name="吴老奶")
        chart_head, chart_day = await _seed_chart_station(session, clock)
        visit_head = await _seed_visit_station(session, clock)
        seeded = {
            "station_id": station.id,
            "organizer": organizer.username,
            "head": head.username,
            "phone": person.phone,
            "name": person.name,
            "second_phone": second.phone,
            "second_name": second.name,
            "chart_head": chart_head,
            "chart_day": chart_day,
            "visit_head": visit_head,
        }
    await engine.dispose()
    return seeded


async def _seed_chart_station(session: AsyncSession, clock: SystemClock) -> tuple[str, str]:
    """A station with two activities three days ago: a home visit with 4 attendees, a heritage
    class with 5. Answers its head's username and the local day."""
    station = await create_station(session, clock, name="韶山社工站")
    head = await create_user(session, clock, Role.station_head, [station], username="chart-head")
    people = [await create_person(session, clock, station) for _ in range(9)]
    ago = timedelta(days=-3)
    visit = await create_event(session, clock, station, theme="home_visit", starts_in=ago)
    heritage = await create_event(session, clock, station, theme="heritage", starts_in=ago)
    for i, person in enumerate(people):
        event = visit if i < 4 else heritage
        await write_attendance(session, clock, event, person.id, status=AttendanceStatus.present, minutes=60)
    day = visit.starts_at.astimezone(ZoneInfo(station.timezone)).date().isoformat()
    assert head.username is not None
    return head.username, day


async def _seed_visit_station(session: AsyncSession, clock: SystemClock) -> str:
    station = await create_station(session, clock, name="高坡社工站")
    head = await create_user(session, clock, Role.station_head, [station], username="visit-head")
    await create_person(session, clock, station, name="潘社工", is_social_worker=True)
    await create_person(session, clock, station, name="龙志愿")
    joined = clock.now() - timedelta(days=40)
    for n, name in enumerate(("吴阿婆", "杨阿公"), 1):
        await create_resident(
            session,
            clock,
            station,
            name=name,
            categories=["extreme_poverty"],
            address=f"高坡村二组{n}号",
            created_at=joined,
        )
    assert head.username is not None
    return head.username


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    database = tmp_path_factory.mktemp("e2e") / "coordinator.db"
    url = f"sqlite+aiosqlite:///{database}"
    seeded: dict[str, Any] = {}

    async def seed() -> None:
        seeded.update(await _seed(url))

    _run(seed())
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=url,
        secret_key=TEST_SECRET,
        public_base_url=base_url,
        scheduler_enabled=False,
        log_json=False,
        debug=True,
    )
    app = create_app(settings, channels={"sms": CONSOLE, "console": CONSOLE})
    with serve_in_thread(app, port):
        yield World(
            base_url=base_url,
            station_id=seeded["station_id"],
            organizer=seeded["organizer"],
            head=seeded["head"],
            volunteer_phone=seeded["phone"],
            volunteer_name=seeded["name"],
            second_phone=seeded["second_phone"],
            second_name=seeded["second_name"],
            chart_head=seeded["chart_head"],
            chart_day=seeded["chart_day"],
            visit_head=seeded["visit_head"],
        )


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int) -> Iterator[None]:
    """Run ``app`` under uvicorn on ``port`` in a thread of its own (Playwright's sync API holds
    the test's thread) until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(uv.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


def last_code_sent_to(phone: str) -> str:
    """The login code the console SMS channel "sent" (it keeps messages in memory, unmasked)."""
    message = CONSOLE.last_for(phone)
    assert message is not None, "no code was sent to this phone"
    return str(message.params["code"])


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need playwright: pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Tab:
    """A page that records every console error and uncaught exception, for the final assert."""

    page: Any
    errors: list[str]

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_tab(
    browser: Any, base_url: str, *, phone: bool = False, scripts: bool = True, user_agent: str | None = None
) -> Tab:
    options: dict[str, Any] = {"base_url": base_url, "locale": "zh-CN", "java_script_enabled": scripts}
    if user_agent is not None:
        options["user_agent"] = user_agent
    if phone:
        options.update(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=3)
    context = browser.new_context(**options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return Tab(page, errors)


_KEPT_LOG = """async (name) => {
  const db = await new Promise((ok) => {
    const r = indexedDB.open(name, 1); r.onsuccess = () => ok(r.result);
  });
  return await new Promise((ok) => {
    const r = db.transaction(["log"]).objectStore("log").getAll(); r.onsuccess = () => ok(r.result);
  });
}"""


def kept_log(page: Any, database: str) -> list[dict[str, Any]]:
    """What an offline page keeps of each record in IndexedDB (outbox.js): its device time and
    the server's outcome."""
    lines: list[dict[str, Any]] = page.evaluate(_KEPT_LOG, database)
    return lines


def reopen(tab: Tab, path: str) -> Tab:
    """Closes the tab's page and opens the path again in the same browser context, as someone
    closing the page and coming back; errors go on being recorded."""
    context = tab.page.context
    tab.page.close()
    page = context.new_page()
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.goto(path)
    return Tab(page, tab.errors)


def log_in_staff(tab: Tab, username: str) -> None:
    tab.page.goto("/web/login")
    tab.page.get_by_label("用户名").fill(username)
    tab.page.get_by_label("密码").fill(PASSWORD)
    tab.page.get_by_role("button", name="登录").click()


def log_in_volunteer(tab: Tab, phone: str) -> None:
    page = tab.page
    page.goto("/web/otp")
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("验证码").fill(last_code_sent_to(phone))
    page.get_by_role("button", name="登录").click()


def create_activity(tab: Tab, *, theme: str, title: str, day: str, time: str) -> str:
    """Creates and publishes an activity through the organizer's form; answers its page's path."""
    page = tab.page
    page.goto("/web/events/new")
    page.get_by_label("活动主题").select_option(theme)
    page.get_by_label("活动名称").fill(title)
    page.get_by_label("日期").fill(day)
    page.get_by_label("开始时间").fill(time)
    page.get_by_role("button", name="创建草稿").click()
    page.get_by_role("button", name="发布").click()
    page.get_by_text("活动已发布").wait_for()
    return str(page.url)
