"""Home visits without signal: the itinerary opened once online reloads offline, its residents'
record forms open and save into IndexedDB, survive the page being closed, and reach the server
exactly once, with their device times, when the network returns, also when an answer is lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import World, kept_log, log_in_staff, needs_chromium, open_tab, reopen
from tests.e2e.door_world import organizer_api

pytestmark = needs_chromium

KEPT = """async (urls) => {
  const cache = await caches.open("coordinator-door-v1");
  const kept = await Promise.all(urls.map((url) => cache.match(url)));
  return Boolean(navigator.serviceWorker.controller) && kept.every(Boolean);
}"""
SENT = """() => window.coordinatorVisits.sync()
  .then(() => document.getElementById("visit-waiting").textContent === "全部已发送")"""


@pytest.fixture
def api(server: World) -> Iterator[httpx.Client]:
    client = organizer_api(server)
    yield client
    client.close()


def _itinerary(api: httpx.Client, station_id: int) -> tuple[int, list[int]]:
    """A round published now for two new residents: its event and the residents."""
    residents = []
    for name in ("石阿婆", "龙阿公"):
        made = api.post(
            "/residents", json={"station_id": station_id, "name": name, "categories": ["empty_nest_elderly"]}
        )
        made.raise_for_status()
        residents.append(made.json()["id"])
    starts_at = datetime.now(UTC) + timedelta(minutes=30)
    published = api.post(
        "/visits/itineraries",
        json={
            "station_id": station_id,
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
            "area": "营盘坡一组",
            "resident_ids": residents,
        },
    )
    published.raise_for_status()
    return published.json()["event_id"], residents


def _wait_for(page: Any, script: str, arg: Any = None) -> None:
    for _ in range(100):
        if page.evaluate(script, arg):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script}")


def _waiting(page: Any, text: str) -> None:
    page.wait_for_function(
        "(text) => document.getElementById('visit-waiting').textContent === text", arg=text
    )


def test_visits_recorded_offline_reach_the_server_once(
    server: World, browser: Any, api: httpx.Client
) -> None:
    event_id, residents = _itinerary(api, server.station_id)
    itinerary = f"/web/visits/itineraries/{event_id}"
    tab = open_tab(browser, server.base_url, phone=True)
    page, context = tab.page, tab.page.context
    log_in_staff(tab, server.organizer)
    page.goto(itinerary)
    _wait_for(page, KEPT, [itinerary, *(f"{itinerary}/record/{r}" for r in residents)])

    context.set_offline(True)
    page.reload()
    _waiting(page, "全部已发送")
    for i, note in enumerate(("独居，行动不便", "家中无人")):
        page.get_by_role("link", name="记录走访").nth(i).click()
        page.wait_for_url(f"**{itinerary}/record/{residents[i]}")
        if i:
            page.get_by_label("不在家").check()
        else:
            page.get_by_label("医疗").check()
            page.get_by_label("跟进事项").fill("联系村医送药")
        page.get_by_label("情况记录").fill(note)
        page.get_by_role("button", name="保存").click()
        page.wait_for_url(f"**{itinerary}")
        _waiting(page, f"{i + 1} 条待发送")
    assert "无网络" in page.locator("#visit-net").inner_text()
    tab.shot("43-visits-offline")

    tab = reopen(tab, itinerary)
    page = tab.page
    _waiting(page, "2 条待发送")
    assert "待发送" in page.get_by_test_id(f"offline-{residents[1]}").inner_text()
    assert api.get("/visits/records", params={"event_id": event_id}).json() == []

    # The network returns; the first upload reaches the server but its answer is lost.
    uploads: list[int] = []

    def lose_answer(route: Any) -> None:
        uploads.append(route.fetch().status)
        route.abort()

    page.route("**/web/visits/batch", lose_answer)
    context.set_offline(False)
    for _ in range(100):
        if uploads:
            break
        page.wait_for_timeout(100)
    assert uploads == [200]
    page.unroute("**/web/visits/batch")
    _wait_for(page, SENT)

    lines = {line["resident_id"]: line for line in kept_log(page, "coordinator-visits")}
    assert [line["outcome"] for line in lines.values()] == ["replayed", "replayed"]
    stored = api.get("/visits/records", params={"event_id": event_id}).json()
    assert sorted(row["resident_id"] for row in stored) == sorted(residents)
    for row in stored:
        device_time = datetime.fromisoformat(lines[row["resident_id"]]["at"].replace("Z", "+00:00"))
        assert datetime.fromisoformat(row["visited_at"]) == device_time
    first = next(row for row in stored if row["resident_id"] == residents[0])
    assert first["needs"] == ["medical"]
    assert [f["action"] for f in first["follow_ups"]] == ["联系村医送药"]
    assert next(row for row in stored if row["resident_id"] == residents[1])["outcome"] == "not_at_home"
    tab.shot("44-visits-sent")
    assert tab.errors == []
