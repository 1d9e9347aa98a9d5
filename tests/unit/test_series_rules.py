from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.errors import Invalid
from coordinator.events.series.recurrence import check_series_rule, parse_rrule, rrule_dates, series_dates

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn) -> str:
    """Calendar rules that match often enough for plain dateutil to be the reference."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 4))}"]
    if draw(st.booleans()):
        parts.append("BYDAY=" + ",".join(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True))))
    elif freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        parts.append(f"BYMONTHDAY={draw(st.integers(1, 28))}")
    if draw(st.booleans()):
        parts.append(f"COUNT={draw(st.integers(1, 60))}")
    return ";".join(parts)


@settings(max_examples=150, deadline=None)
@given(
    text=rules(),
    starts_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    offset=st.integers(min_value=-30, max_value=800),
    length=st.integers(min_value=0, max_value=400),
)
def test_translated_expansion_equals_plain_dateutil(
    text: str, starts_on: date, offset: int, length: int
) -> None:
    """Moving the rule by whole 400-year cycles (to bound dateutil's walk) changes no date."""
    rule = parse_rrule(text, starts_on)
    start = starts_on + timedelta(days=offset)
    end = start + timedelta(days=length)
    plain = [
        d.date()
        for d in rule.between(datetime.combine(start, time()), datetime.combine(end, time.max), inc=True)
    ]
    assert rrule_dates(rule, starts_on, start, end) == plain
    assert len(set(plain)) == len(plain)  # at most one occurrence a day


def test_last_saturday_of_the_month() -> None:
    found = series_dates(
        rrule_text="RRULE:FREQ=MONTHLY;BYDAY=-1SA",
        festival=None,
        starts_on=date(2026, 12, 1),
        until=date(2027, 3, 31),
        start=date(2026, 11, 29),
        end=date(2028, 1, 1),
    )
    assert found == [date(2026, 12, 26), date(2027, 1, 30), date(2027, 2, 27), date(2027, 3, 27)]


def test_february_29th_rule_finds_leap_years_only() -> None:
    found = rrule_dates(
        parse_rrule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", date(2026, 1, 1)),
        date(2026, 1, 1),
        date(2026, 1, 1),
        date(2036, 12, 31),
    )
    assert found == [date(2028, 2, 29), date(2032, 2, 29), date(2036, 2, 29)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "no date within 4 years"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=MO", "no date within 4 years"),  # starts on a Thursday
        ("FREQ=SECONDLY", "FREQ must be"),
        ("FREQ=WEEKLY;BYMINUTE=5", "BYMINUTE is not accepted"),
        ("FREQ=WEEKLY;UNTIL=20270101T000000Z", "until field"),
        ("FREQ=WEEKLY;COUNT=-1", "COUNT must be"),
        ("FREQ=WEEKLY;FREQ=DAILY", "FREQ appears twice"),
        ("FREQ=WEEKLY\nEXDATE:20270101", "exactly one rule"),
        ("FREQ=WEEKLY;BYDAY=", "cannot read"),
    ],
)
def test_unacceptable_rules_name_the_reason(text: str, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_series_rule(rrule_text=text, festival=None, starts_on=date(2026, 1, 1), until=None)
    assert caught.value.code == "invalid_rrule"
    assert reason in caught.value.message_en
