"""The main journey in a real browser: an organizer creates and publishes an activity, a volunteer
on a phone logs in by SMS code, signs up and checks in through the QR link, and the station head
sees the numbers move on the dashboard; a course invitation answered on the course page. No page
logs a console error along the way."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.conftest import (
    Tab,
    World,
    create_activity,
    last_code_sent_to,
    log_in_staff,
    log_in_volunteer,
    needs_chromium,
    open_tab,
)
from tests.e2e.course_world import COURSE, station_course
from tests.e2e.door_world import organizer_api
from tests.factories import unique_mobile

pytestmark = needs_chromium

KAILI = ZoneInfo("Asia/Shanghai")
TITLE = "端午包粽子·三留守慰问"


def _person_times(tab: Tab) -> int:
    return int(tab.page.get_by_test_id("total-person-times").inner_text())


def _wait_for_person_times(tab: Tab, expected: int, *, attempts: int = 40) -> None:
    """Roll-ups follow the commit through the bus: reload until they have caught up."""
    for _ in range(attempts):
        if _person_times(tab) == expected:
            return
        tab.page.wait_for_timeout(250)
        tab.page.reload()
    assert _person_times(tab) == expected


def test_organizer_volunteer_and_head_journey(server: World, browser: Any) -> None:
    # Starts within the hour, so the check-in window (from one hour before the start) is open.
    starts = (datetime.now(UTC) + timedelta(minutes=30)).astimezone(KAILI).replace(second=0, microsecond=0)

    head = open_tab(browser, server.base_url)
    log_in_staff(head, server.head)
    # The activity's whole month: the roll-ups answer it, and the year's turn cannot split the test.
    first = starts.date().replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    head.page.goto(f"/web/dashboard?from={first.isoformat()}&to={last.isoformat()}")
    before = _person_times(head)
    head.shot("01-dashboard-before")

    organizer = open_tab(browser, server.base_url)
    log_in_staff(organizer, server.organizer)
    page = organizer.page
    page.get_by_role("link", name="新建活动").first.click()
    page.get_by_label("活动主题").select_option("festival_visit")
    page.get_by_label("活动名称").fill(TITLE)
    page.get_by_label("日期").fill(starts.date().isoformat())
    page.get_by_label("开始时间").fill(starts.strftime("%H:%M"))
    page.get_by_label("地点").fill("营盘坡村委会")
    organizer.shot("02-new-activity")
    page.get_by_role("button", name="创建草稿").click()
    page.wait_for_url(re.compile(r"/web/events/\d+$"))
    assert page.get_by_test_id("event-status").inner_text() == "草稿"
    page.get_by_role("button", name="发布").click()
    page.get_by_text("活动已发布").wait_for()
    assert page.get_by_test_id("event-status").inner_text() == "已发布"
    event_path = page.url
    checkin_url = page.get_by_test_id("checkin-link").get_attribute("href")
    assert checkin_url is not None
    assert "/web/checkin?token=" in checkin_url
    page.goto(f"/web/calendar?month={starts.strftime('%Y-%m')}")
    assert page.get_by_role("link", name=re.compile(TITLE)).count() == 1
    organizer.shot("03-calendar")

    phone = open_tab(browser, server.base_url, phone=True)
    mobile = phone.page
    mobile.goto("/web/m")
    mobile.wait_for_url(re.compile(r"/web/otp"))
    mobile.get_by_label("手机号").fill(server.volunteer_phone)
    mobile.get_by_role("button", name="获取验证码").click()
    mobile.get_by_label("验证码").fill(last_code_sent_to(server.volunteer_phone))
    phone.shot("04-otp")
    mobile.get_by_role("button", name="登录").click()
    mobile.wait_for_url(re.compile(r"/web/m$"))
    mobile.get_by_role("link", name=TITLE).click()
    mobile.get_by_role("button", name=re.compile("^报名")).first.click()
    mobile.get_by_text("报名成功").wait_for()
    assert "已确认" in mobile.get_by_test_id("my-status").inner_text()
    phone.shot("05-signed-up")

    mobile.goto(checkin_url)
    mobile.get_by_role("button", name="签到 / 签退").click()
    assert mobile.get_by_test_id("checkin-result").inner_text() == "签到成功"
    phone.shot("06-checked-in")

    page.goto(event_path)
    assert server.volunteer_name in page.get_by_role("region", name="报名").inner_text()
    assert server.volunteer_name in page.get_by_role("region", name="点名").inner_text()
    organizer.shot("07-activity-page")

    head.page.reload()
    _wait_for_person_times(head, before + 1)
    head.shot("08-dashboard-after")

    for tab in (head, organizer, phone):
        assert tab.errors == []


def test_invitation_accepted_without_scripts_then_cancellation_preview(server: World, browser: Any) -> None:
    """Pages work before (here: without) their script; the cancel preview names the confirmed."""
    day = (datetime.now(UTC) + timedelta(days=3)).astimezone(KAILI).date().isoformat()
    organizer = open_tab(browser, server.base_url)
    log_in_staff(organizer, server.organizer)
    event_path = create_activity(
        organizer, theme="home_visit", title="入户走访·空巢老人", day=day, time="09:30"
    )
    page = organizer.page
    page.get_by_label("邀请人员").select_option(label=server.second_name)
    page.get_by_role("button", name="邀请", exact=True).click()
    page.get_by_text("邀请已发出").wait_for()

    phone = open_tab(browser, server.base_url, phone=True, scripts=False)
    log_in_volunteer(phone, server.second_phone)
    phone.page.get_by_role("link", name="我的活动").click()
    phone.page.get_by_role("button", name="接受邀请").click()
    phone.page.get_by_text("已接受邀请").wait_for()
    assert "已确认" in phone.page.get_by_role("listitem").filter(has_text="入户走访").inner_text()
    phone.shot("11-invitation-accepted-no-js")

    page.goto(event_path)
    page.get_by_role("link", name="取消活动").click()
    assert server.second_name in page.get_by_test_id("cancel-preview").inner_text()
    organizer.shot("12-cancel-preview")
    page.get_by_label("取消原因").fill("暴雨预警")
    page.get_by_role("button", name="确认取消").click()
    assert page.get_by_test_id("event-status").inner_text() == "已取消"

    phone.page.get_by_role("button", name="English").click()
    phone.page.get_by_role("heading", name="My activities").wait_for()
    assert "Cancelled" in phone.page.get_by_role("main").inner_text()
    phone.shot("13-english")

    for tab in (organizer, phone):
        assert tab.errors == []


def test_a_course_invitation_is_answered_on_the_course_page(server: World, browser: Any) -> None:
    """Where a course notice leads: the phone signs in by code, comes back to the course, accepts."""
    api = organizer_api(server)
    course_id = station_course(api, server.station_id)
    person = api.post(
        "/people", json={"station_id": server.station_id, "name": "潘小花", "phone": unique_mobile()}
    )
    person.raise_for_status()
    number = person.json()["phone"]
    api.post(
        f"/courses/{course_id}/invitations",
        json={"person_id": person.json()["id"], "trainee_class": "social_worker"},
    ).raise_for_status()
    api.close()

    phone = open_tab(browser, server.base_url, phone=True)
    mobile = phone.page
    mobile.goto(f"/web/m/courses/{course_id}")
    mobile.wait_for_url(re.compile(r"/web/otp"))
    mobile.get_by_label("手机号").fill(number)
    mobile.get_by_role("button", name="获取验证码").click()
    mobile.get_by_label("验证码").fill(last_code_sent_to(number))
    mobile.get_by_role("button", name="登录").click()
    mobile.wait_for_url(re.compile(rf"/web/m/courses/{course_id}$"))
    mobile.get_by_role("heading", name=COURSE).first.wait_for()
    assert "已受邀，待答复" in mobile.get_by_test_id("my-enrolment").inner_text()
    mobile.get_by_role("button", name="接受邀请").click()
    mobile.get_by_text("已接受邀请").wait_for()
    assert "已录取" in mobile.get_by_test_id("my-enrolment").inner_text()
    phone.shot("14-course-invitation-accepted")
    assert phone.errors == []


def test_keyboard_reaches_the_skip_link_first_and_labels_name_every_field(
    server: World, browser: Any
) -> None:
    tab = open_tab(browser, server.base_url)
    log_in_staff(tab, server.organizer)
    for path in ("/web/events/new", "/web/people", "/web/residents", "/web/dashboard", "/web/calendar"):
        tab.page.goto(path)
        tab.page.keyboard.press("Tab")
        assert tab.page.evaluate("document.activeElement.className") == "skip"
        unlabeled = tab.page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                 .map(el => el.name)"""
        )
        assert unlabeled == [], f"{path}: fields without a label: {unlabeled}"
    assert tab.errors == []
