from __future__ import annotations

from datetime import date

import pytest

from coordinator.people.birthdays import birthday_in_month, lunar_birthday_in_year, validate_birthday


def _lunar(month: int, day: int, year: int, target_month: int, *, leap: bool = False) -> date | None:
    return birthday_in_month(
        month=month, day=day, is_lunar=True, leap_month=leap, year=year, target_month=target_month
    )


def _solar(month: int, day: int, year: int, target_month: int) -> date | None:
    return birthday_in_month(
        month=month, day=day, is_lunar=False, leap_month=False, year=year, target_month=target_month
    )


def test_mid_autumn_lunar_birthday_falls_on_known_solar_date() -> None:
    assert _lunar(8, 15, 2026, 9) == date(2026, 9, 25)
    assert _lunar(8, 15, 2026, 10) is None


def test_lunar_new_year_birthday_found_in_next_solar_february() -> None:
    assert _lunar(1, 1, 2027, 2) == date(2027, 2, 6)
    assert _lunar(1, 1, 2027, 1) is None


def test_january_month_looks_into_previous_lunar_year() -> None:
    # Lunar 2025-12-01 is 2026-01-19: the solar month belongs to the previous lunar year.
    assert _lunar(12, 1, 2026, 1) == date(2026, 1, 19)


def test_lunar_day_30_in_a_29_day_month_is_celebrated_on_its_last_day() -> None:
    # Lunar month 12 of 2026 has 29 days: the 30th is kept on the 29th, New Year's Eve 2027-02-05.
    assert _lunar(12, 30, 2027, 2) == date(2027, 2, 5)
    # Lunar month 1 of 2025 has 30 days: the 30th exists.
    assert _lunar(1, 30, 2025, 2) == date(2025, 2, 27)


def test_leap_month_birthday_uses_leap_month_when_the_year_has_it() -> None:
    # 2025 has a leap sixth month (闰六月): 闰六月初十 is 2025-08-03, the ordinary 六月初十 2025-07-04.
    assert _lunar(6, 10, 2025, 8, leap=True) == date(2025, 8, 3)
    assert _lunar(6, 10, 2025, 7, leap=False) == date(2025, 7, 4)
    assert _lunar(6, 10, 2025, 7, leap=True) is None


def test_leap_month_birthday_falls_in_ordinary_month_without_leap() -> None:
    assert _lunar(6, 10, 2026, 7, leap=True) == date(2026, 7, 23)
    assert lunar_birthday_in_year(month=6, day=10, leap_month=True, lunar_year=2026) == date(2026, 7, 23)


def test_solar_birthday_only_in_its_own_month() -> None:
    assert _solar(3, 8, 2026, 3) == date(2026, 3, 8)
    assert _solar(3, 8, 2026, 4) is None


def test_solar_february_29_is_kept_on_february_28_in_common_years() -> None:
    assert _solar(2, 29, 2027, 2) == date(2027, 2, 28)
    assert _solar(2, 29, 2028, 2) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("year", "month", "day", "is_lunar", "leap"),
    [
        (None, 2, 30, False, False),  # solar Feb 30 never exists
        (2025, 2, 29, False, False),  # not a leap year
        (None, 4, 31, False, False),
        (None, 13, 1, False, False),
        (None, 0, 1, True, False),
        (None, 5, 31, True, False),  # lunar months never have 31 days
        (2026, 2, 30, True, False),  # lunar 2026 month 2 has 29 days
        (2026, 6, 1, True, True),  # 2026 has no leap month
        (2025, 5, 1, True, True),  # 2025's leap month is the sixth
        (None, 5, 1, False, True),  # leap months exist only in the lunar calendar
        (1850, 5, 1, False, False),
    ],
)
def test_impossible_birthdays_are_rejected(
    year: int | None, month: int, day: int, is_lunar: bool, leap: bool
) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        validate_birthday(year=year, month=month, day=day, is_lunar=is_lunar, leap_month=leap)


@pytest.mark.parametrize(
    ("year", "month", "day", "is_lunar", "leap"),
    [
        (None, 2, 29, False, False),
        (2024, 2, 29, False, False),
        (None, 2, 30, True, False),  # celebrated on the 29th in short years
        (2025, 1, 30, True, False),
        (2025, 6, 29, True, True),
        (1950, 8, 15, True, False),
    ],
)
def test_possible_birthdays_are_accepted(
    year: int | None, month: int, day: int, is_lunar: bool, leap: bool
) -> None:
    validate_birthday(year=year, month=month, day=day, is_lunar=is_lunar, leap_month=leap)
