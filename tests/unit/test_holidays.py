from __future__ import annotations

from datetime import date

import pytest

from coordinator.events.calendar.holidays import HOLIDAY_NAMES_ZH, holiday_on


def test_statutory_holiday_has_english_and_chinese_names() -> None:
    holiday = holiday_on(date(2026, 10, 1))
    assert holiday is not None
    assert (holiday.kind, holiday.name, holiday.name_zh, holiday.in_lieu) == (
        "holiday",
        "National Day",
        "国庆节",
        False,
    )


def test_day_off_moved_from_a_weekend_is_marked_in_lieu() -> None:
    holiday = holiday_on(date(2026, 10, 7))  # a Wednesday off, paid for by Saturday 10 October
    assert holiday is not None
    assert (holiday.kind, holiday.name_zh, holiday.in_lieu) == ("holiday", "国庆节", True)


@pytest.mark.parametrize(
    ("day", "name_zh"),
    [(date(2026, 10, 10), "国庆节"), (date(2026, 2, 14), "春节"), (date(2026, 1, 4), "元旦")],
)
def test_weekend_make_up_workday_names_its_holiday(day: date, name_zh: str) -> None:
    workday = holiday_on(day)
    assert workday is not None
    assert (workday.kind, workday.name_zh, workday.in_lieu) == ("makeup_workday", name_zh, False)


@pytest.mark.parametrize("day", [date(2026, 10, 14), date(2026, 10, 17), date(2026, 10, 18)])
def test_ordinary_weekdays_and_weekends_have_no_holiday(day: date) -> None:
    assert holiday_on(day) is None


@pytest.mark.parametrize("day", [date(1999, 10, 1), date(2040, 10, 1)])
def test_years_outside_the_published_schedules_answer_none(day: date) -> None:
    assert holiday_on(day) is None


def test_every_holiday_of_the_package_has_a_chinese_name() -> None:
    import chinese_calendar

    assert {h.value for h in chinese_calendar.Holiday} <= set(HOLIDAY_NAMES_ZH)
