"""The dates a series falls on: an RRULE (RFC 5545, read by python-dateutil) or a festival rule.

Accepted RRULEs are the calendar kind: ``FREQ`` of ``DAILY``, ``WEEKLY``, ``MONTHLY`` or ``YEARLY``
with any ``BY…`` day filters, ``INTERVAL``, ``COUNT`` and ``WKST``. The time of day is the series'
``start_time`` and the end date its ``until`` field, so ``BYHOUR``/``BYMINUTE``/``BYSECOND`` and
``UNTIL`` are refused: without them every rule yields at most one occurrence per day, and an
occurrence is named by its local date (the ``occurrence_key``). A rule must produce a date within
``PROBE_YEARS`` of its start, and the work per window is bounded whatever the rule (``rrule_dates``)."""

from __future__ import annotations

from datetime import MAXYEAR, date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr

from coordinator.errors import Invalid
from coordinator.events.calendar import festivals

CALENDAR_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_KNOWN_PARTS = frozenset(
    {
        "FREQ",
        "INTERVAL",
        "COUNT",
        "WKST",
        "BYDAY",
        "BYMONTH",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYSETPOS",
    }
)
_REFUSED_PARTS = {
    "BYHOUR": ("时间由 start_time 决定", "the time of day comes from start_time"),
    "BYMINUTE": ("时间由 start_time 决定", "the time of day comes from start_time"),
    "BYSECOND": ("时间由 start_time 决定", "the time of day comes from start_time"),
    "UNTIL": ("结束日期请填写 until 字段", "put the end date in the until field"),
}
GREGORIAN_CYCLE_YEARS = 400
PROBE_YEARS = 4
# More dates than this in one window means something is wrong (a horizon is at most 730 days).
MAX_DATES_PER_WINDOW = 1000


def invalid_rrule(reason_zh: str, reason_en: str) -> Invalid:
    return Invalid(
        f"重复规则无效：{reason_zh}", f"Invalid RRULE: {reason_en}", code="invalid_rrule", field="rrule"
    )


def parse_rrule(text: str, starts_on: date) -> rrule:
    """The rule ``text`` (with or without the ``RRULE:`` prefix) starting on ``starts_on``.

    422 ``invalid_rrule`` with the reason for anything malformed or outside the accepted kind."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body or any(c in body for c in "\r\n"):
        raise invalid_rrule("只能包含一条规则", "give exactly one rule line")
    parts: dict[str, str] = {}
    for part in body.split(";"):
        key, sep, value = part.partition("=")
        key = key.strip().upper()
        if not sep or not value.strip():
            raise invalid_rrule(f"无法识别「{part}」", f"cannot read {part!r}")
        if key in _REFUSED_PARTS:
            zh, en = _REFUSED_PARTS[key]
            raise invalid_rrule(f"不支持 {key}：{zh}", f"{key} is not accepted: {en}")
        if key not in _KNOWN_PARTS:
            raise invalid_rrule(f"不支持的规则项 {key}", f"unsupported rule part {key}")
        if key in parts:
            raise invalid_rrule(f"{key} 重复出现", f"{key} appears twice")
        parts[key] = value.strip().upper()
    for key, limit in (("INTERVAL", 1000), ("COUNT", 10_000)):
        if key in parts and not (parts[key].isdigit() and 1 <= int(parts[key]) <= limit):
            raise invalid_rrule(
                f"{key} 必须是 1 到 {limit} 之间的整数", f"{key} must be a whole number 1–{limit}"
            )
    if parts.get("FREQ") not in CALENDAR_FREQUENCIES:
        raise invalid_rrule(
            "FREQ 必须是 DAILY、WEEKLY、MONTHLY 或 YEARLY",
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY",
        )
    try:
        rule = rrulestr(body, dtstart=datetime.combine(starts_on, time()))
    except (ValueError, TypeError, OverflowError, IndexError) as exc:
        raise invalid_rrule(str(exc), str(exc)) from exc
    if not isinstance(rule, rrule):  # pragma: no cover - a single RRULE line always parses to one
        raise invalid_rrule("只能包含一条规则", "give exactly one rule line")
    return rule


def check_rule_produces(rule: rrule, starts_on: date) -> None:
    """422 unless the rule yields a date within ``PROBE_YEARS`` of its start (catches rules that
    can never match, like the 30th of February, and rules so sparse they are surely a mistake)."""
    probe_end = starts_on + timedelta(days=366 * PROBE_YEARS)
    if not rrule_dates(rule, starts_on, starts_on, probe_end):
        raise invalid_rrule(
            f"从开始日期起{PROBE_YEARS}年内没有任何一次活动",
            f"the rule gives no date within {PROBE_YEARS} years of starts_on",
        )


def rrule_dates(rule: rrule, starts_on: date, start: date, end: date) -> list[date]:
    """The dates of ``rule`` (which starts on ``starts_on``) from ``start`` to ``end``, both included.

    dateutil stops only at a result past ``end``, at ``COUNT`` or at the year 9999, so a rule that
    never matches (``BYMONTH=2;BYMONTHDAY=30``) would walk all the way there. Moving the rule by whole
    400-year Gregorian cycles (same weekdays, same leap years) puts the window within dateutil's last
    400 years: a walk past it then costs at most 400 years of periods."""
    if end < start or end < starts_on:
        return []
    shift = GREGORIAN_CYCLE_YEARS * ((MAXYEAR - end.year) // GREGORIAN_CYCLE_YEARS)
    shifted = rule.replace(dtstart=datetime.combine(_move(starts_on, shift), time()))
    found: list[date] = []
    for occurrence in shifted:
        day = _move(occurrence.date(), -shift)
        if day > end:
            break
        if day >= start:
            found.append(day)
            if len(found) > MAX_DATES_PER_WINDOW:
                raise invalid_rrule("规则产生的活动过多", "the rule gives too many dates")
    return found


def _move(day: date, years: int) -> date:
    # Whole 400-year cycles keep Feb 29 valid and every weekday the same.
    return day.replace(year=day.year + years)


def series_dates(
    *,
    rrule_text: str | None,
    festival: str | None,
    starts_on: date,
    until: date | None,
    start: date,
    end: date,
) -> list[date]:
    """The occurrence dates of a series' rule within [start, end], never before ``starts_on`` nor
    after ``until``."""
    start = max(start, starts_on)
    if until is not None:
        end = min(end, until)
    if end < start:
        return []
    if festival is not None:
        return festivals.occurrences(festival, start, end)
    assert rrule_text is not None
    return rrule_dates(parse_rrule(rrule_text, starts_on), starts_on, start, end)


def check_series_rule(
    *, rrule_text: str | None, festival: str | None, starts_on: date, until: date | None
) -> None:
    """Exactly one of an RRULE and a festival, valid, with an ``until`` not before ``starts_on``."""
    if (rrule_text is None) == (festival is None):
        raise Invalid(
            "请填写重复规则（rrule）或节日（festival）中的一个",
            "Give exactly one of rrule and festival",
            code="one_rule_required",
            field="rrule",
        )
    if until is not None and until < starts_on:
        raise Invalid(
            "结束日期不能早于开始日期", "until is before starts_on", code="until_before_start", field="until"
        )
    if festival is not None:
        festivals.get_festival(festival)
        return
    assert rrule_text is not None
    check_rule_produces(parse_rrule(rrule_text, starts_on), starts_on)
