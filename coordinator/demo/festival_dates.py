"""The festivals a demo station visits its residents for, on their real dates (``events.festivals``).

Lunar festivals follow the 农历 and 冬至 is a solar term, so their solar dates move from year to
year: 端午 2026 is 19 June, 2027 is 9 June."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from coordinator.events.calendar.festivals import FESTIVALS, occurrences

# The festivals of the demo calendar (not 七夕 and 清明) and the title of their visit.
DEMO_FESTIVAL_TITLES = {
    "spring_festival": "春节走访慰问",
    "lantern": "元宵节·猜灯谜包汤圆",
    "dragon_boat": "端午节慰问三留守人员",
    "mid_autumn": "中秋节·月饼送温暖",
    "double_ninth": "重阳节敬老慰问",
    "winter_solstice": "冬至暖冬行动",
    "laba": "腊八节送粥",
}


@dataclass(frozen=True)
class DemoFestival:
    code: str
    name_zh: str
    title: str  # the demo activity's title


def festival_dates(first: date, last: date) -> list[tuple[DemoFestival, date]]:
    """Every demo festival falling between ``first`` and ``last`` (inclusive), in date order."""
    found = [
        (DemoFestival(code, FESTIVALS[code].name_zh, title), day)
        for code, title in DEMO_FESTIVAL_TITLES.items()
        for day in occurrences(code, first, last)
    ]
    return sorted(found, key=lambda pair: pair[1])
