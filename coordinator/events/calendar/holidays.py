"""Statutory holidays (法定节假日) and make-up workdays (调休上班) of a local date.

The ``chinesecalendar`` package holds the State Council's yearly schedule; years it does not
know yet (or no longer) answer ``None``: no information rather than a guess."""

from __future__ import annotations

from datetime import date

import chinese_calendar

from coordinator.events.schemas import HolidayOut

# The package's English names (``chinese_calendar.Holiday`` values) and the names people use.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def holiday_on(day: date) -> HolidayOut | None:
    """The holiday or make-up workday falling on ``day``; ``None`` for ordinary days and unknown years."""
    try:
        is_day_off, name = chinese_calendar.get_holiday_detail(day)
        in_lieu = bool(chinese_calendar.is_in_lieu(day))
    except NotImplementedError:  # a year outside the published schedules
        return None
    if name is None:  # an ordinary weekday or weekend
        return None
    name = str(name)
    return HolidayOut(
        kind="holiday" if is_day_off else "makeup_workday",
        name=name,
        name_zh=HOLIDAY_NAMES_ZH.get(name, name),
        in_lieu=in_lieu and is_day_off,
    )
