"""Reminder offsets: ISO 8601 durations such as ``P1D``, ``PT2H``, ``PT30M`` or ``P1DT12H``.

A deliberately small, strict subset: weeks, days, hours, minutes and seconds (no years or months,
whose length depends on the date), at least one non-zero part, nothing else. ``parse_offset`` is
what reminder planning uses too, so every stored offset is one it can read."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
# Nobody is reminded of an activity more than 60 days ahead; larger numbers are typing slips.
MAX_OFFSET = timedelta(days=60)


def parse_offset(text: str) -> timedelta:
    """The duration written as ``text``; ``ValueError`` for anything outside the subset."""
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration like P1D, PT2H or PT30M")
    parts = {name: int(value) for name, value in match.groupdict().items() if value is not None}
    if not parts:
        raise ValueError(f"{text!r} is not an ISO 8601 duration like P1D, PT2H or PT30M")
    try:
        offset = timedelta(**parts)
    except OverflowError:
        offset = MAX_OFFSET * 2
    if offset <= timedelta(0) or offset > MAX_OFFSET:
        raise ValueError(f"{text!r} must be more than zero and at most 60 days")
    return offset


def check_offsets(offsets: list[str]) -> list[str]:
    """Validate every offset; keep the first of duplicates (by length of time), longest first."""
    by_length: dict[timedelta, str] = {}
    for text in offsets:
        by_length.setdefault(parse_offset(text), text)
    return [by_length[length] for length in sorted(by_length, reverse=True)]


_UNITS = (("天", "day", 86400), ("小时", "hour", 3600), ("分钟", "minute", 60), ("秒", "second", 1))


def describe_offset(text: str) -> tuple[str, str]:
    """How people say a reminder offset, in Chinese and English: ``PT1H`` is ("提前1小时",
    "1 hour before"), ``P1DT12H`` ("提前1天12小时", "1 day 12 hours before")."""
    left = int(parse_offset(text).total_seconds())
    zh, en = [], []
    for zh_unit, en_unit, size in _UNITS:
        count, left = divmod(left, size)
        if count:
            zh.append(f"{count}{zh_unit}")
            en.append(f"{count} {en_unit}" if count == 1 else f"{count} {en_unit}s")
    return f"提前{''.join(zh)}", f"{' '.join(en)} before"
