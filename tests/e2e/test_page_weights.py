"""Bytes transferred by the first load of each volunteer page (/web/m…) and of the door page, with
an empty browser cache, as Chromium counts them (compressed sizes): none may pass 30 KB. Each page
is then loaded under Chromium's Slow 3G emulation and must come up whole; the bytes and the Slow
3G load times are written to ``tests/e2e/artifacts/page-weights.md`` (README, "Page weights")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, Tab, World, log_in_staff, log_in_volunteer, needs_chromium, open_tab
from tests.e2e.course_world import COURSE, station_course
from tests.e2e.door_world import DoorActivity, door_activity

pytestmark = needs_chromium

LIMIT = 30 * 1024
# Chromium DevTools' "Slow 3G" preset: 2 s round trips, 400 kbit/s each way.
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}


class Meter:
    """Counts the encoded (on-the-wire) bytes of every response the page receives; the door page's
    background copy for offline use (requests marked ``X-Door-Keep``) is counted apart, since it
    may start before or after the page settles."""

    def __init__(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.bytes = 0
        self.kept_requests: set[str] = set()
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, params: dict[str, Any]) -> None:
        if any(name.lower() == "x-door-keep" for name in params["request"].get("headers", {})):
            self.kept_requests.add(params["requestId"])

    def _finished(self, params: dict[str, Any]) -> None:
        if params["requestId"] not in self.kept_requests:
            self.bytes += int(params["encodedDataLength"])

    def load(self, page: Any, path: str) -> int:
        self.bytes = 0
        page.goto(path, wait_until="load")
        page.wait_for_load_state("networkidle")
        return self.bytes


@pytest.fixture
def activity(server: World) -> Iterator[DoorActivity]:
    made = door_activity(server)
    yield made
    made.api.close()


def _slow_3g_seconds(meter: Meter, page: Any, path: str, heading: str) -> float:
    meter.cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    try:
        started = time.monotonic()
        page.goto(path, wait_until="load", timeout=60_000)
        page.get_by_role("heading", name=heading).first.wait_for()
        return time.monotonic() - started
    finally:
        meter.cdp.send(
            "Network.emulateNetworkConditions",
            {**SLOW_3G, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )


def _volunteer(server: World, browser: Any, phone: str) -> Tab:
    tab = open_tab(browser, server.base_url, phone=True)
    log_in_volunteer(tab, phone)
    tab.page.wait_for_url("**/web/m")
    return tab


def _organizer(server: World, browser: Any) -> Tab:
    tab = open_tab(browser, server.base_url, phone=True)
    log_in_staff(tab, server.organizer)
    tab.page.wait_for_url("**/web/calendar")
    return tab


def test_first_loads_stay_under_30_kb(server: World, browser: Any, activity: DoorActivity) -> None:
    # Two browsers per role, each page new to both: one weighs, one loads it under Slow 3G.
    # People of the activity, whose phones no other test asks a login code for.
    volunteer = (
        _volunteer(server, browser, activity.confirmed[0]["phone"]),
        _volunteer(server, browser, activity.waiting[0]["phone"]),
    )
    organizer = (_organizer(server, browser), _organizer(server, browser))
    course_id = station_course(activity.api, server.station_id)
    pages = [
        ("/web/m", "可报名的活动", volunteer),
        (f"/web/m/events/{activity.event_id}", "我们共成长", volunteer),
        ("/web/m/mine", "我的活动", volunteer),
        ("/web/m/hours", "我的服务时长", volunteer),
        ("/web/m/certificate", "志愿服务记录", volunteer),
        (f"/web/m/courses/{course_id}", COURSE, volunteer),
        (f"/web/events/{activity.event_id}/door", "离线签到", organizer),
    ]
    rows = []
    for path, heading, (weighing, slow) in pages:
        meter = Meter(weighing.page)
        weight = meter.load(weighing.page, path)
        meter.cdp.detach()
        slow_meter = Meter(slow.page)
        seconds = _slow_3g_seconds(slow_meter, slow.page, path, heading)
        slow_meter.cdp.detach()
        rows.append((path, weight, seconds))
    # What the door page keeps for use offline after it has loaded (roster, itself, the QR decoder
    # where the browser has none): fetched once, in the background.
    kept = organizer[0].page.evaluate(
        """async () => {
          const cache = await caches.open("coordinator-door-v1");
          let total = 0;
          for (const request of await cache.keys()) {
            total += (await (await cache.match(request)).blob()).size;
          }
          return total;
        }"""
    )
    report = ["| page | first load, bytes transferred | Slow 3G first load, s |", "| --- | ---: | ---: |"]
    report += [f"| `{path}` | {weight:,} | {seconds:.1f} |" for path, weight, seconds in rows]
    report.append(f"\nDoor page kept for offline use (uncompressed, in the browser's cache): {kept:,} bytes")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weights.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))
    assert [(path, weight) for path, weight, _ in rows if weight > LIMIT] == []
    for tab in (*volunteer, *organizer):
        assert tab.errors == []
