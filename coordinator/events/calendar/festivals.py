"""Traditional festivals as dates: lunar festivals (农历节日) and two solar terms (节气).

The dates are computed with lunar-python, whose tables cover the years used here.

Which occurrence belongs to which year: ``festival_date(code, year)`` takes the *festival year*.
For a lunar festival that is the lunar year (农历年): 腊八 (lunar 12/8) of lunar year 2026 is
2027-01-15, the 腊八 just before 春节 2027 — it can fall in December or January of the Gregorian
calendar. For a solar term it is the Gregorian year (冬至 2026 is 2026-12-22). Series never need
that distinction: ``occurrences(code, start, end)`` answers every date within a Gregorian date
range, whatever festival year it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from lunar_python import Lunar, Solar

from coordinator.errors import Invalid

# The festival years whose dates we answer; lunar-python's tables are reliable well beyond these.
MIN_YEAR = 1901
MAX_YEAR = 2099


@dataclass(frozen=True)
class Festival:
    code: str
    name_zh: str
    name_en: str
    lunar_month: int | None = None  # lunar festivals: month and day of an ordinary (non-leap) month
    lunar_day: int | None = None
    solar_term: str | None = None  # solar terms: the term's Chinese name, as lunar-python writes it
    solar_month: int | None = None  # the Gregorian month the term always falls in

    @property
    def is_lunar(self) -> bool:
        return self.solar_term is None


FESTIVALS: dict[str, Festival] = {
    f.code: f
    for f in (
        Festival("spring_festival", "春节", "Spring Festival", lunar_month=1, lunar_day=1),
        Festival("lantern", "元宵节", "Lantern Festival", lunar_month=1, lunar_day=15),
        Festival("dragon_boat", "端午节", "Dragon Boat Festival", lunar_month=5, lunar_day=5),
        Festival("qixi", "七夕", "Qixi Festival", lunar_month=7, lunar_day=7),
        Festival("mid_autumn", "中秋节", "Mid-Autumn Festival", lunar_month=8, lunar_day=15),
        Festival("double_ninth", "重阳节", "Double Ninth Festival", lunar_month=9, lunar_day=9),
        Festival("laba", "腊八节", "Laba Festival", lunar_month=12, lunar_day=8),
        Festival("winter_solstice", "冬至", "Winter Solstice", solar_term="冬至", solar_month=12),
        Festival("qingming", "清明节", "Qingming Festival", solar_term="清明", solar_month=4),
    )
}


def get_festival(code: str) -> Festival:
    """The festival called ``code``; 422 ``unknown_festival`` otherwise."""
    festival = FESTIVALS.get(code)
    if festival is None:
        raise Invalid(
            f"未知的节日：{code}（可选：{'、'.join(FESTIVALS)}）",
            f"Unknown festival: {code} (one of {', '.join(FESTIVALS)})",
            code="unknown_festival",
            field="festival",
        )
    return festival


def festival_date(code: str, year: int) -> date:
    """The Gregorian date of festival ``code`` in festival year ``year`` (see the module docstring)."""
    festival = get_festival(code)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    return _festival_date(festival, year)


@lru_cache(maxsize=4096)
def _festival_date(festival: Festival, year: int) -> date:
    if festival.solar_term is not None:
        assert festival.solar_month is not None
        return _solar_term_date(festival.solar_term, year, festival.solar_month)
    assert festival.lunar_month is not None
    assert festival.lunar_day is not None
    # A positive month is the ordinary month: 端午 is never kept in a leap fifth month (闰五月).
    solar = Lunar.fromYmd(year, festival.lunar_month, festival.lunar_day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _solar_term_date(term: str, year: int, month: int) -> date:
    # A solar term is one day of a known Gregorian month (清明 April 4–6, 冬至 December 21–23):
    # scanning that month asks lunar-python nothing it is unsure about.
    day = date(year, month, 1)
    while day.month == month:
        if Solar.fromYmd(day.year, day.month, day.day).getLunar().getJieQi() == term:
            return day
        day = date.fromordinal(day.toordinal() + 1)
    raise AssertionError(f"solar term {term} not found in {year}-{month:02d}")  # pragma: no cover


def occurrences(code: str, start: date, end: date) -> list[date]:
    """Every date of festival ``code`` from ``start`` to ``end`` (both included), in order.

    Dates outside the supported festival years are left out."""
    festival = get_festival(code)
    if start > end:
        return []
    # A lunar festival of lunar year Y falls in Gregorian year Y or Y + 1 (腊八).
    first = max(MIN_YEAR, start.year - 1 if festival.is_lunar else start.year)
    last = min(MAX_YEAR, end.year)
    dates = (_festival_date(festival, year) for year in range(first, last + 1))
    return sorted(d for d in dates if start <= d <= end)
