from __future__ import annotations

from datetime import timedelta

import pytest

from coordinator.events.durations import check_offsets, describe_offset, parse_offset


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("P1D", timedelta(days=1)),
        ("PT2H", timedelta(hours=2)),
        ("PT30M", timedelta(minutes=30)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P1W", timedelta(weeks=1)),
        ("PT90S", timedelta(seconds=90)),
    ],
)
def test_iso_durations_parse(text: str, length: timedelta) -> None:
    assert parse_offset(text) == length


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "P1DT",
        "PT1D",
        "P1H",
        "p1d",
        "-P1D",
        "PT1.5H",
        "P1Y",
        "P1M",
        "PT0M",
        "P61D",
        "PT2H\n",
        " P1D",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"P1D|60 days"):
        parse_offset(text)


def test_offsets_are_deduplicated_by_length_and_ordered_longest_first() -> None:
    assert check_offsets(["PT30M", "P1D", "PT1440M", "PT2H"]) == ["P1D", "PT2H", "PT30M"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("PT1H", ("提前1小时", "1 hour before")),
        ("P1D", ("提前1天", "1 day before")),
        ("PT30M", ("提前30分钟", "30 minutes before")),
        ("P1DT12H", ("提前1天12小时", "1 day 12 hours before")),
        ("P1W", ("提前7天", "7 days before")),
        ("PT90S", ("提前1分钟30秒", "1 minute 30 seconds before")),
    ],
)
def test_offsets_are_said_as_people_say_them(text: str, words: tuple[str, str]) -> None:
    assert describe_offset(text) == words
