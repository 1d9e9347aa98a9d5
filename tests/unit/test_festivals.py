from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lunar_python import Solar

from coordinator.errors import Invalid
from coordinator.events.calendar.festivals import FESTIVALS, MAX_YEAR, MIN_YEAR, festival_date, occurrences

# Festival days of the State Council's public-holiday notices for 2025 and 2026 (国务院办公厅关于
# 部分节假日安排的通知), the official almanac for 2027, and the Purple Mountain Observatory's
# solar-term times (冬至 2026 is 12-22 04:50 Beijing time).
KNOWN_DATES = [
    ("spring_festival", 2025, date(2025, 1, 29)),
    ("spring_festival", 2026, date(2026, 2, 17)),
    ("spring_festival", 2027, date(2027, 2, 6)),
    ("lantern", 2026, date(2026, 3, 3)),
    ("dragon_boat", 2025, date(2025, 5, 31)),
    ("dragon_boat", 2026, date(2026, 6, 19)),
    ("qixi", 2026, date(2026, 8, 19)),
    ("mid_autumn", 2025, date(2025, 10, 6)),
    ("mid_autumn", 2026, date(2026, 9, 25)),
    ("double_ninth", 2026, date(2026, 10, 18)),
    ("winter_solstice", 2026, date(2026, 12, 22)),
    ("qingming", 2025, date(2025, 4, 4)),
    ("qingming", 2026, date(2026, 4, 5)),
    ("qingming", 2027, date(2027, 4, 5)),
]


@pytest.mark.parametrize(("code", "year", "expected"), KNOWN_DATES)
def test_festival_falls_on_its_published_date(code: str, year: int, expected: date) -> None:
    assert festival_date(code, year) == expected


def test_laba_of_a_lunar_year_falls_in_the_next_january() -> None:
    # 腊八 of lunar year 2026 (丙午) comes just before 春节 2027, in Gregorian January 2027.
    assert festival_date("laba", 2026) == date(2027, 1, 15)
    assert festival_date("laba", 2026) < festival_date("spring_festival", 2027)


def test_occurrences_are_by_gregorian_range_whatever_the_festival_year() -> None:
    # Calendar year 2026 holds the 腊八 of lunar year 2025 (in January), not that of 2026.
    assert occurrences("laba", date(2026, 1, 1), date(2026, 12, 31)) == [date(2026, 1, 26)]
    assert occurrences("laba", date(2026, 1, 1), date(2027, 12, 31)) == [date(2026, 1, 26), date(2027, 1, 15)]


def test_occurrences_include_both_ends_and_nothing_outside() -> None:
    assert occurrences("mid_autumn", date(2026, 9, 25), date(2026, 9, 25)) == [date(2026, 9, 25)]
    assert occurrences("mid_autumn", date(2026, 9, 26), date(2027, 9, 14)) == []
    assert occurrences("mid_autumn", date(2027, 1, 1), date(2026, 1, 1)) == []


def test_unknown_festival_is_rejected_with_its_code() -> None:
    with pytest.raises(Invalid) as caught:
        occurrences("halloween", date(2026, 1, 1), date(2026, 12, 31))
    assert caught.value.code == "unknown_festival"
    assert caught.value.status_code == 422
    assert caught.value.field == "festival"


def test_every_festival_has_chinese_and_english_names() -> None:
    for festival in FESTIVALS.values():
        assert festival.name_zh
        assert festival.name_en
        assert festival.is_lunar == (festival.lunar_month is not None)


lunar_festivals = st.sampled_from(sorted(code for code, f in FESTIVALS.items() if f.is_lunar))
solar_terms = st.sampled_from(sorted(code for code, f in FESTIVALS.items() if not f.is_lunar))
years = st.integers(min_value=MIN_YEAR, max_value=MAX_YEAR)


@given(code=lunar_festivals, year=years)
def test_lunar_festival_date_converts_back_to_its_lunar_month_and_day(code: str, year: int) -> None:
    day = festival_date(code, year)
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    # Positive month: the ordinary month, never a leap month of the same number.
    assert (lunar.getYear(), lunar.getMonth(), lunar.getDay()) == (
        year,
        FESTIVALS[code].lunar_month,
        FESTIVALS[code].lunar_day,
    )


@given(code=solar_terms, year=years)
def test_solar_term_date_is_that_term_in_its_month(code: str, year: int) -> None:
    day = festival_date(code, year)
    assert (day.year, day.month) == (year, FESTIVALS[code].solar_month)
    assert Solar.fromYmd(day.year, day.month, day.day).getLunar().getJieQi() == FESTIVALS[code].solar_term


@given(
    code=st.sampled_from(sorted(FESTIVALS)),
    start=st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 1, 1)),
    days=st.integers(min_value=0, max_value=3 * 366),
)
def test_occurrences_are_the_festival_dates_inside_the_range(code: str, start: date, days: int) -> None:
    end = start + timedelta(days=days)
    found = occurrences(code, start, end)
    expected = sorted(
        d for year in range(start.year - 1, end.year + 1) if start <= (d := festival_date(code, year)) <= end
    )
    assert found == expected
    # A festival comes once a year: never two within ~11 months of each other.
    assert all(b - a > timedelta(days=300) for a, b in itertools.pairwise(found))
