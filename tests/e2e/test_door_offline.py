"""The door page without signal: opened once online, it reloads offline, records roster ticks,
walk-ins and scanned codes into IndexedDB, survives being closed, and sends everything exactly
once when the network returns, also when the network drops in the middle of a sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, Tab, World, kept_log, log_in_staff, needs_chromium, open_tab, reopen
from tests.e2e.door_world import DoorActivity, door_activity
from tests.factories import unique_mobile

pytestmark = needs_chromium

CACHED = """async (roster) => {
  const cache = await caches.open("coordinator-door-v1");
  return Boolean(navigator.serviceWorker.controller) && Boolean(await cache.match(roster))
    && Boolean(await cache.match(document.getElementById("door").dataset.jsqr));
}"""
ROSTER_DRAWN = "() => document.querySelectorAll('#door-roster li[data-person]').length === 25"
LOG = """() => Array.from(document.querySelectorAll("#door-log li")).map((li) => li.dataset.outcome)"""


def _wait_until_kept(page: Any, roster: str) -> None:
    """The page is controlled by its service worker and has kept its roster and the decoder."""
    for _ in range(100):
        if page.evaluate(CACHED, roster):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the door page was not kept for offline use")


def _wait_for_waiting(page: Any, text: str) -> None:
    page.wait_for_function("(text) => document.getElementById('door-waiting').textContent === text", arg=text)


def _record_offline(page: Any, activity: DoorActivity, codes: list[str]) -> None:
    """20 roster ticks (14 present, 3 late, 3 left early), 5 walk-ins and 5 scans."""
    rows = page.locator("#door-roster li")
    for i in range(17):
        rows.nth(i).get_by_role("button", name="迟到" if i >= 14 else "到场").click()
    for i in range(3):
        rows.nth(i).get_by_role("button", name="早退").click()
    for i in range(5):
        page.get_by_label("姓名").fill(f"现场村民{i + 1}")
        page.get_by_label("手机号").fill(unique_mobile()[3:])
        page.get_by_role("button", name="登记现场加入").click()
        page.wait_for_function("(n) => document.querySelectorAll('#door-log li').length === n", arg=21 + i)
    for code in codes:
        assert page.evaluate("(src) => window.coordinatorDoor.scanImage(src)", code) is not None


@pytest.fixture
def activity(server: World) -> Iterator[DoorActivity]:
    made = door_activity(server)
    yield made
    made.api.close()


def test_door_page_records_offline_and_sends_everything_once(
    server: World, browser: Any, activity: DoorActivity
) -> None:
    door = f"/web/events/{activity.event_id}/door"
    tab = open_tab(browser, server.base_url, phone=True)
    page, context = tab.page, tab.page.context
    log_in_staff(tab, server.organizer)
    page.goto(door)
    _wait_until_kept(page, f"{door}/roster")
    page.wait_for_function(ROSTER_DRAWN)
    assert activity.confirmed[0]["phone"] not in page.content()  # phones are masked

    # Four valid codes of confirmed people not on the ticked list, and one revoked since it was shown.
    scanned = activity.confirmed[17:21]
    revoked = activity.confirmed[21]
    codes = [activity.qr_image(p["id"]) for p in [*scanned, revoked]]
    activity.revoke(revoked["id"])

    context.set_offline(True)
    page.reload()
    page.wait_for_function(ROSTER_DRAWN)
    _record_offline(page, activity, codes)
    _wait_for_waiting(page, "30 条待发送")
    assert "无网络" in page.locator("#door-net").inner_text()
    tab.shot("30-door-offline")

    tab = reopen(tab, door)
    page = tab.page
    _wait_for_waiting(page, "30 条待发送")
    assert activity.attendance() == []

    # The network comes back; the second chunk reaches the server but its answer is lost.
    chunks: list[int] = []

    def cut_second(route: Any) -> None:
        chunks.append(len(chunks))
        answer = route.fetch()
        if len(chunks) == 2:
            route.abort()
        else:
            route.fulfill(response=answer)

    page.route("**/web/door/batch", cut_second)
    context.set_offline(False)
    _wait_for_waiting(page, "20 条待发送")
    page.unroute("**/web/door/batch")
    page.evaluate("() => window.coordinatorDoor.sync()")
    _wait_for_waiting(page, "全部已发送")

    outcomes = page.evaluate(LOG)
    assert len(outcomes) == 30
    assert outcomes.count("applied") == 19
    assert outcomes.count("replayed") == 10  # the chunk whose answer was lost: the server had it
    assert outcomes.count("rejected") == 1
    refused = page.locator("#door-log li[data-outcome='rejected']")
    assert "该二维码已作废" in refused.inner_text()
    tab.shot("31-door-sent")

    rows = {row["person_id"]: row for row in activity.attendance()}
    assert len(rows) == 17 + 5 + 4
    lines = kept_log(page, "coordinator-door")
    ticked = {p["id"]: p for p in activity.confirmed[:17]}
    for line in lines:
        row = rows.get(line["person_id"])
        if line["outcome"] == "rejected":
            assert line["person_id"] is None
            continue
        assert row is not None
        field = "checked_out_at" if line["what"] == "早退" else "checked_in_at"
        assert datetime.fromisoformat(row[field]) == datetime.fromisoformat(line["at"].replace("Z", "+00:00"))
    assert sum(row["status"] == "late" for row in rows.values()) == 3
    assert sum(row["walk_in"] for row in rows.values()) == 5
    assert all(rows[pid]["method"] == "offline_batch" for pid in ticked)
    assert revoked["id"] not in rows
    assert tab.errors == []


def test_records_survive_a_restart_of_the_browser(
    server: World, browser: Any, activity: DoorActivity, tmp_path: Path
) -> None:
    """The browser closes with records waiting (a phone restarting): they are there after it
    starts again, offline too, and go once the network returns (with a new form token: the old
    one's cookie ended with the browser)."""
    door = f"/web/events/{activity.event_id}/door"
    options: dict[str, Any] = {
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox"],
        "base_url": server.base_url,
        "locale": "zh-CN",
    }
    first = browser.browser_type.launch_persistent_context(str(tmp_path), **options)
    tab = Tab(first.pages[0] if first.pages else first.new_page(), [])
    log_in_staff(tab, server.organizer)
    tab.page.goto(door)
    _wait_until_kept(tab.page, f"{door}/roster")
    first.set_offline(True)
    tab.page.reload()
    tab.page.wait_for_function(ROSTER_DRAWN)
    rows = tab.page.locator("#door-roster li")
    for i in range(3):
        rows.nth(i).get_by_role("button", name="到场").click()
    _wait_for_waiting(tab.page, "3 条待发送")
    first.close()

    again = browser.browser_type.launch_persistent_context(str(tmp_path), **options)
    again.set_offline(True)
    page = again.pages[0] if again.pages else again.new_page()
    page.goto(door)
    _wait_for_waiting(page, "3 条待发送")
    again.set_offline(False)
    _wait_for_waiting(page, "全部已发送")
    rows_after = activity.attendance()
    assert sorted(row["person_id"] for row in rows_after) == sorted(p["id"] for p in activity.confirmed[:3])
    again.close()
