"""Quiet hours, channel chains and backoff: the rules planning and the dispatcher share."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from coordinator.notify import policy
from coordinator.people.models import Person
from coordinator.settings import Settings, WechatTemplate

KAILI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=KAILI)


def when(due: datetime, now: datetime, deadline: datetime | None) -> datetime | None:
    return policy.outside_quiet_hours(due, now=now, deadline=deadline, zone=KAILI, start="22:00", end="08:00")


def test_a_time_outside_quiet_hours_is_kept() -> None:
    assert when(local(5, 10), local(1, 10), local(6, 10)) == local(5, 10)


def test_a_reminder_due_at_night_goes_before_quiet_hours_begin() -> None:
    # The 2-hour reminder of a 07:30 activity would fall at 05:30: it goes the evening before.
    assert when(local(6, 5, 30), local(1, 10), local(6, 7, 30)) == local(5, 21, 45)


def test_when_the_evening_has_passed_it_goes_when_quiet_hours_end() -> None:
    # Planned at 23:00 for a 10:00 activity: the evening slot is gone, 08:00 is still useful.
    assert when(local(6, 6), local(5, 23), local(6, 10)) == local(6, 8)


def test_no_useful_moment_left_means_none() -> None:
    # Planned at 23:00 for a 07:30 activity: before quiet hours has passed, after them is too late.
    assert when(local(6, 5, 30), local(5, 23), local(6, 7, 30)) is None


def test_a_window_within_one_day_and_an_empty_window() -> None:
    noon = policy.outside_quiet_hours(
        local(5, 12, 30), now=local(5, 9), deadline=None, zone=KAILI, start="12:00", end="14:00"
    )
    assert noon == local(5, 11, 45)
    assert policy.quiet_window(local(5, 3), KAILI, "00:00", "00:00") is None


def test_the_chain_keeps_the_persons_order_with_consent_and_an_address() -> None:
    person = Person(
        phone="+8613812340000",
        wechat_openid="o-abc",
        email=None,
        consent_sms=True,
        consent_wechat=True,
        consent_email=True,
        channel_order=["wechat", "email", "sms"],
    )
    configured = policy.configured_channels(Settings(wechat_app_id="wx", smtp_host="smtp.example.cn"))
    # No email address: email drops out although consented.
    assert policy.channel_chain(person, configured) == ["wechat", "sms"]
    person.consent_wechat = False
    assert policy.channel_chain(person, configured) == ["sms"]
    # WeChat not configured on this deployment: it is never chosen.
    person.consent_wechat = True
    assert policy.channel_chain(person, policy.configured_channels(Settings())) == ["sms"]


def test_a_kind_without_a_wechat_template_skips_wechat() -> None:
    person = Person(
        phone="+8613812340000",
        wechat_openid="o-abc",
        consent_sms=True,
        consent_wechat=True,
        channel_order=["wechat", "sms"],
    )
    reminder = WechatTemplate(id="TPL-R", data={"thing1": "title"})
    settings = Settings(wechat_app_id="wx", wechat_templates={"reminder": reminder})
    assert policy.channel_chain(person, policy.configured_channels(settings, "reminder")) == ["wechat", "sms"]
    # The confirm-or-release reminder goes as the plain one where it has no template of its own.
    assert policy.channel_chain(person, policy.configured_channels(settings, "reminder_confirm")) == [
        "wechat",
        "sms",
    ]
    assert policy.channel_chain(person, policy.configured_channels(settings, "cancelled")) == ["sms"]


def test_backoff_grows_honours_the_provider_window_and_jitters_upwards() -> None:
    rng = random.Random(7)
    delays = [policy.retry_delay(n, None, rng) for n in (1, 2, 3)]
    assert timedelta(seconds=30) <= delays[0] <= timedelta(seconds=37.5)
    assert timedelta(seconds=60) <= delays[1] <= timedelta(seconds=75)
    assert timedelta(seconds=120) <= delays[2] <= timedelta(seconds=150)
    assert policy.retry_delay(1, 3600, rng) >= timedelta(hours=1)
    assert policy.retry_delay(30, None, rng) <= timedelta(hours=1.25)


def test_local_day_bounds_are_midnights_of_the_station() -> None:
    start, end = policy.local_day_bounds(datetime(2026, 12, 5, 17, 0, tzinfo=UTC), KAILI)
    assert start == local(6, 0)
    assert end == local(7, 0)
