"""Home visits in the browser: plan a day, publish a round, record a visit on a phone, and see the
dashboard's coverage against the visit policies change."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import World, log_in_staff, needs_chromium, open_tab

pytestmark = needs_chromium


def test_plan_publish_record_on_a_phone_and_see_coverage_change(server: World, browser: Any) -> None:
    desk = open_tab(browser, server.base_url)
    log_in_staff(desk, server.visit_head)
    page = desk.page
    page.goto("/web/dashboard")
    assert page.get_by_test_id("overdue-extreme_poverty").inner_text() == "2"
    page.get_by_role("link", name="入户走访").first.click()
    assert page.get_by_test_id("overdue-count").inner_text() == "2"
    page.get_by_role("button", name="生成走访安排").click()
    round_ = page.get_by_test_id("round")
    assert round_.count() == 1
    assert "吴阿婆" in round_.inner_text()
    assert "潘社工" in round_.inner_text()  # the social worker leads
    round_.get_by_label("通知方式").select_option("confirm")
    desk.shot("40-visits-plan")
    round_.get_by_role("button", name="发布此路线").click()
    page.wait_for_url(re.compile(r"/web/visits/itineraries/\d+$"))
    itinerary = page.url.removeprefix(server.base_url)

    phone = open_tab(browser, server.base_url, phone=True)
    log_in_staff(phone, server.visit_head)
    phone.page.goto(itinerary)
    phone.page.get_by_role("link", name="记录走访").first.click()
    phone.page.get_by_label("医疗").check()
    phone.page.get_by_label("住房安全（无漏雨、危房）").check()
    phone.page.get_by_label("情况记录").fill("血压偏高，药快吃完")
    phone.page.get_by_label("跟进事项").fill("联系村医送药")
    phone.shot("41-visit-record-phone")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # fits the phone: no sideways scrolling
    phone.page.get_by_role("button", name="保存").click()
    phone.page.wait_for_url(re.compile(r"/web/visits/itineraries/\d+$"))
    assert "已记录：已走访" in phone.page.get_by_test_id("stops").inner_text()

    page.goto("/web/dashboard")
    assert page.get_by_test_id("overdue-extreme_poverty").inner_text() == "1"
    assert page.get_by_test_id("visits-done").inner_text() == "1"
    desk.shot("42-dashboard-visit-coverage")
    assert desk.errors == []
    assert phone.errors == []
