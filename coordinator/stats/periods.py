"""Calendar arithmetic of statistics: an event belongs to the day, week, month and year of its start
in its station's zone (a 23:30 UTC start is the next morning in Kaili)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(zone(timezone)).date()


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def year_of(day: date) -> str:
    return f"{day.year:04d}"


def week_of(day: date) -> str:
    """The ISO week, ``2026-W48``: weeks start on Monday and belong to the year of their Thursday."""
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def months_between(first: date, last: date) -> list[str]:
    """Every month touching [first, last], in order."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def last_day_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def whole_period(first: date, last: date) -> str | None:
    """The one roll-up period [first, last] is exactly (a month ``YYYY-MM`` or a year ``YYYY``), or None."""
    if first.day == 1 and last == last_day_of_month(first):
        return month_of(first)
    if (first.month, first.day) == (1, 1) and last == date(first.year, 12, 31):
        return year_of(first)
    return None


def is_whole_months(first: date, last: date) -> bool:
    return first.day == 1 and last == last_day_of_month(last)


def utc_window(first: date, last: date) -> tuple[datetime, datetime]:
    """A UTC range sure to hold every instant whose local date (in any zone) is in [first, last]:
    zones are at most 14 hours from UTC, so a day of margin on each side is enough."""
    start = datetime.combine(first - timedelta(days=1), time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=2), time(), tzinfo=UTC)
    return start, end
