"""Birthdays on the solar (公历) or the lunar (农历) calendar: validation and "when is it this month".

Many elderly residents only know, and celebrate, their lunar birthday. Lunar months have 29 or 30
days and some years repeat a month (闰月); lunar-python writes a leap month as a negative number.
"""

from __future__ import annotations

import calendar
from datetime import date

from lunar_python import Lunar, LunarMonth, LunarYear, Solar

# The years lunar-python's tables cover reliably; birthdays outside them are typing mistakes.
MIN_YEAR = 1900
MAX_YEAR = 2100
_LEAP_SOLAR_YEAR = 2000  # a leap year: lets a solar Feb 29 pass when the birth year is unknown


def validate_birthday(*, year: int | None, month: int, day: int, is_lunar: bool, leap_month: bool) -> None:
    """Raise ``ValueError`` unless (year?, month, day) is a birthday that can exist.

    Without a year a lunar day 30 is accepted (it is celebrated on the 29th in short months);
    with a year the date must exist in that year's lunar or solar calendar."""
    if leap_month and not is_lunar:
        raise ValueError("only a lunar birthday can fall in a leap month")
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not between 1 and 12")
    if is_lunar:
        _validate_lunar(year, month, day, leap_month)
    else:
        _validate_solar(year, month, day)


def _validate_solar(year: int | None, month: int, day: int) -> None:
    last = calendar.monthrange(year if year is not None else _LEAP_SOLAR_YEAR, month)[1]
    if not 1 <= day <= last:
        raise ValueError(f"day {day} does not exist in solar month {month}" + (f" of {year}" if year else ""))


def _validate_lunar(year: int | None, month: int, day: int, leap_month: bool) -> None:
    if not 1 <= day <= 30:
        raise ValueError(f"lunar day {day} is not between 1 and 30")
    if year is None:
        return
    if leap_month and LunarYear.fromYear(year).getLeapMonth() != month:
        raise ValueError(f"lunar year {year} has no leap month {month}")
    days = LunarMonth.fromYm(year, -month if leap_month else month).getDayCount()
    if day > days:
        raise ValueError(f"lunar month {month} of {year} has only {days} days")


def birthday_in_month(
    *, month: int, day: int, is_lunar: bool, leap_month: bool, year: int, target_month: int
) -> date | None:
    """The solar date within (``year``, ``target_month``) on which the birthday is celebrated, or None."""
    if not is_lunar:
        if month != target_month:
            return None
        # Solar Feb 29 birthdays are kept on Feb 28 in common years.
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))
    # A solar month overlaps the end of the previous lunar year (January, February) or the current one.
    for lunar_year in (year - 1, year):
        if not MIN_YEAR <= lunar_year <= MAX_YEAR:
            continue
        celebrated = lunar_birthday_in_year(
            month=month, day=day, leap_month=leap_month, lunar_year=lunar_year
        )
        if celebrated.year == year and celebrated.month == target_month:
            return celebrated
    return None


def lunar_birthday_in_year(*, month: int, day: int, leap_month: bool, lunar_year: int) -> date:
    """The solar date of a lunar birthday in ``lunar_year``.

    A leap-month birthday falls in the ordinary month in years without that leap month; day 30 falls
    on the 29th in a month that has only 29 days that year."""
    lunar_month = -month if leap_month and LunarYear.fromYear(lunar_year).getLeapMonth() == month else month
    last = LunarMonth.fromYm(lunar_year, lunar_month).getDayCount()
    solar = Lunar.fromYmd(lunar_year, lunar_month, min(day, last)).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def age_on(today: date, *, year: int | None, month: int, day: int, is_lunar: bool) -> int | None:
    """Full years reached by ``today`` (a lunar birthday counts lunar years); None without a birth year."""
    if year is None:
        return None
    if not is_lunar:
        return today.year - year - ((today.month, today.day) < (month, day))
    lunar = Solar.fromYmd(today.year, today.month, today.day).getLunar()
    return int(lunar.getYear()) - year - ((abs(int(lunar.getMonth())), int(lunar.getDay())) < (month, day))
