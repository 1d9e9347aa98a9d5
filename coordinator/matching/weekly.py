"""Weekly availability as spans of seconds since Monday 00:00 local time.

A person's windows are merged where they touch or overlap (08:00–12:00 and 12:00–18:00 make
08:00–18:00), also across midnight and from Sunday night into Monday, so "inside one window"
means inside one stretch of time the person said they are free.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from functools import lru_cache

from coordinator.matching.model import OpenRole, Window

DAY = 86_400
WEEK = 7 * DAY

Span = tuple[int, int]


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def window_span(window: Window) -> Span:
    """An end at or before the start runs into the next day (so 00:00–00:00 is the whole day)."""
    weekday, start, end = window
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0..6, got {weekday}")
    begin = weekday * DAY + _seconds(start)
    finish = weekday * DAY + _seconds(end)
    if finish <= begin:
        finish += DAY
    return begin, finish


def merged_spans(windows: Iterable[Window]) -> tuple[Span, ...]:
    """Merged spans, repeated one week earlier and later so that wrap-around needs no case."""
    return _merged(tuple(windows))


# Many people share the same weekly pattern; merging each pattern once saves real time at scale.
@lru_cache(maxsize=4096)
def _merged(windows: tuple[Window, ...]) -> tuple[Span, ...]:
    spans = sorted(
        (begin + shift, end + shift) for begin, end in map(window_span, windows) for shift in (-WEEK, 0, WEEK)
    )
    merged: list[Span] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return tuple(merged)


def role_span(role: OpenRole) -> Span:
    """The role's local start as seconds since Monday 00:00, and its wall-clock length after it."""
    start = role.local_start
    begin = start.weekday() * DAY + _seconds(start.time())
    wall = role.local_end.replace(tzinfo=None) - start.replace(tzinfo=None)
    return begin, begin + int(wall.total_seconds())


def covers(spans: Iterable[Span], span: Span) -> bool:
    begin, end = span
    return any(low <= begin and end <= high for low, high in spans)
