"""A year of a demo station's themed activities, relative to "now".

About ten months back and two ahead, in the station's local time: the monthly 我们共成长 birthday
party (last Saturday), the festival visits on the festivals' real dates, a monthly Party-building
drive (second Saturday), weekly home visits (Tuesday or Thursday morning, not on statutory
holidays) and heritage sessions (芦笙 and 刺绣/苗绣). Roles come from the built-in themes.

Parties, drives and festival visits are occurrences of a series (an RRULE or a festival rule),
named by their local date as the materializer names them, so the series tick carries the calendar
on past the demo's last month without making any occurrence twice."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from coordinator.demo.catalog import DemoStation
from coordinator.demo.festival_dates import DEMO_FESTIVAL_TITLES, festival_dates
from coordinator.events.models import EventStatus
from coordinator.events.themes import BUILTIN_THEMES, RoleTemplate

MONTHS_BACK = 9  # plus the current month: about ten months of history
MONTHS_AHEAD = 2
CANCEL_SHARE = 0.03
CANCEL_REASONS = ("暴雨黄色预警，活动取消", "场地临时占用，活动取消", "主讲人临时有事，改期另行通知")
ORGANIZER_KINDS = {
    "birthday_party": ("children_committee", "tutoring_team"),
    "festival_visit": ("elders_association", "womens_group", "elders_mutual_aid"),
    "party_volunteer_drive": ("party_vanguard",),
    "home_visit": ("elders_mutual_aid", "disability_support", "elders_association"),
    "heritage": ("heritage_team", "arts_team"),
}
_DRIVE_TOPICS = {
    1: "新春环境整治",
    2: "春运返乡服务",
    3: "学雷锋志愿服务",
    4: "清明文明祭扫宣传",
    5: "五四青年志愿服务",
    6: "防溺水安全宣传",
    7: "七一党员志愿服务日",
    8: "防汛巡查",
    9: "开学护学岗",
    10: "国庆关爱老人",
    11: "消防安全宣传",
    12: "冬季送温暖",
}
_VISIT_FOCUS = (
    ("低保户", "low_income"),
    ("特困人员", "extreme_poverty"),
    ("空巢老人", "empty_nest_elderly"),
    ("困境儿童", "child_in_difficulty"),
    ("残疾人", "disabled"),
)
_EMBROIDERY_TEACHER = RoleTemplate("传承人", 1, skills=("embroidery",))
_BIRTHDAY_TEXT = "为{month}月过生日的留守儿童和困境儿童过集体生日：切蛋糕、做游戏、拍合影。"
_DRIVE_TEXT = "主题党日活动：党员带头、群众参与的志愿服务。"
_FESTIVAL_TEXT = "{name}走访慰问三留守人员，送去节日物资。"


@dataclass(frozen=True)
class SeriesPlan:
    """A recurring activity of every demo station: an RRULE or a festival rule."""

    key: str
    theme: str
    title: str
    description: str
    start_time: str  # local "HH:MM"
    venue: int = 0
    rrule: str | None = None
    festival: str | None = None


SERIES: tuple[SeriesPlan, ...] = (
    SeriesPlan(
        "birthday_party",
        "birthday_party",
        "我们共成长·集体生日会",
        _BIRTHDAY_TEXT.format(month="当"),
        "15:00",
        venue=2,
        rrule="FREQ=MONTHLY;BYDAY=-1SA",  # the last Saturday
    ),
    SeriesPlan(
        "party_drive",
        "party_volunteer_drive",
        "党建引领·主题党日志愿服务",
        _DRIVE_TEXT,
        "09:00",
        rrule="FREQ=MONTHLY;BYDAY=2SA",  # the second Saturday
    ),
    *(
        SeriesPlan(
            f"festival:{code}",
            "festival_visit",
            title,
            _FESTIVAL_TEXT.format(name=title),
            "09:30",
            festival=code,
        )
        for code, title in DEMO_FESTIVAL_TITLES.items()
    ),
)


@dataclass
class ActivityPlan:
    theme: str
    title: str
    description: str
    location: str
    organization_kind: tuple[str, ...]
    starts_at: datetime  # UTC
    ends_at: datetime
    month: str  # local "YYYY-MM", for monthly maxima
    weekday: int  # local weekday and wall-clock times, for matching availability
    local_start: str
    local_end: str
    roles: tuple[RoleTemplate, ...]
    served_categories: tuple[str, ...]  # whom it serves: the theme's targets or a visit's focus
    local_date: date
    series: str | None = None  # the ``SeriesPlan.key`` it is an occurrence of
    published_at: datetime | None = None
    status: EventStatus = EventStatus.published
    cancel_reason: str | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class DemoWindow:
    """The span of the demo calendar: first day of the month nine months back to the end of the
    month two ahead, in the station's zone."""

    now: datetime
    zone: ZoneInfo
    first: date
    last: date

    @classmethod
    def around(cls, now: datetime, zone: ZoneInfo) -> DemoWindow:
        today = now.astimezone(zone).date()
        first = _add_months(today.replace(day=1), -MONTHS_BACK)
        after = _add_months(today.replace(day=1), MONTHS_AHEAD + 1)
        return cls(now=now, zone=zone, first=first, last=after - timedelta(days=1))

    def months(self) -> list[tuple[int, int]]:
        month, found = self.first, []
        while month <= self.last:
            found.append((month.year, month.month))
            month = _add_months(month, 1)
        return found


def plan_activities(station: DemoStation, rng: random.Random, window: DemoWindow) -> list[ActivityPlan]:
    plans: list[ActivityPlan] = []
    add = _Adder(station, window, plans)
    for year, month in window.months():
        add(
            "birthday_party",
            _last_weekday(year, month, 5),
            "15:00",
            f"我们共成长·{month}月集体生日会",
            _BIRTHDAY_TEXT.format(month=month),
            venue=2,
            series="birthday_party",
        )
        add(
            "party_volunteer_drive",
            _nth_weekday(year, month, 5, 2),
            "09:00",
            f"党建引领·{_DRIVE_TOPICS[month]}",
            _DRIVE_TEXT,
            series="party_drive",
        )
    for festival, day in festival_dates(window.first, window.last):
        add(
            "festival_visit",
            day,
            "09:30",
            festival.title,
            _FESTIVAL_TEXT.format(name=festival.name_zh),
            series=f"festival:{festival.code}",
        )
    visit = 0
    for day in _days(window.first, window.last):
        if day.weekday() == (1 if day.isocalendar().week % 2 else 3) and not _is_holiday(day):
            focus, category = _VISIT_FOCUS[visit % len(_VISIT_FOCUS)]
            visit += 1
            add(
                "home_visit",
                day,
                "09:30",
                f"入户走访·{focus}",
                f"社工带领志愿者走访{focus}，了解近况、登记需求。",
                served=(category,),
            )
    _plan_heritage(station, window, add)
    for plan in plans:
        _settle_status(plan, window.now, rng)
    return sorted(plans, key=lambda p: (p.starts_at, p.theme))


class _Adder:
    """Builds one ``ActivityPlan`` from a local date and wall-clock start."""

    def __init__(self, station: DemoStation, window: DemoWindow, plans: list[ActivityPlan]) -> None:
        self.station, self.window, self.plans = station, window, plans

    def __call__(
        self,
        theme_code: str,
        day: date,
        start: str,
        title: str,
        description: str,
        *,
        venue: int = 0,
        roles: tuple[RoleTemplate, ...] | None = None,
        served: tuple[str, ...] | None = None,
        series: str | None = None,
    ) -> None:
        if not self.window.first <= day <= self.window.last:
            return
        theme = BUILTIN_THEMES[theme_code]
        local_start = datetime.combine(day, time.fromisoformat(start), tzinfo=self.window.zone)
        local_end = local_start + timedelta(minutes=theme.duration_minutes)
        location = (
            self.station.venues[venue] if theme_code != "home_visit" else f"{self.station.short_name}各组"
        )
        self.plans.append(
            ActivityPlan(
                theme=theme_code,
                title=title,
                description=description,
                location=location,
                organization_kind=ORGANIZER_KINDS[theme_code],
                starts_at=local_start.astimezone(ZoneInfo("UTC")),
                ends_at=local_end.astimezone(ZoneInfo("UTC")),
                month=f"{day:%Y-%m}",
                weekday=day.weekday(),
                local_start=local_start.strftime("%H:%M"),
                local_end=local_end.strftime("%H:%M"),
                roles=roles or theme.roles,
                served_categories=served or theme.target_categories,
                local_date=day,
                series=series,
            )
        )


def _plan_heritage(station: DemoStation, window: DemoWindow, add: _Adder) -> None:
    """Villages with a 芦笙 team meet every other Sunday; town stations once a month."""
    embroidery = "苗绣" if station.is_village else "刺绣"
    sundays = [d for d in _days(window.first, window.last) if d.weekday() == 6]
    third_sundays = [d for d in sundays if 15 <= d.day <= 21]
    sessions = sundays[::2] if station.is_village else third_sundays
    for number, day in enumerate(sessions):
        if number % 2 == 0:
            add(
                "heritage",
                day,
                "14:30",
                "芦笙传习课",
                "芦笙传承人教孩子们吹奏芦笙曲目。",
                venue=1 if station.is_village else 0,
            )
        else:
            add(
                "heritage",
                day,
                "14:30",
                f"{embroidery}传习课",
                f"绣娘手把手教{embroidery}针法，作品可在节日义卖。",
                roles=(_EMBROIDERY_TEACHER, *BUILTIN_THEMES["heritage"].roles[1:]),
            )


def _settle_status(plan: ActivityPlan, now: datetime, rng: random.Random) -> None:
    """Past activities are completed, upcoming ones published; a few of either were cancelled.

    Each was published three weeks ahead (the ones far ahead a few days ago)."""
    now = now.replace(microsecond=0)  # whole seconds read better in the pages
    plan.published_at = min(plan.starts_at - timedelta(days=21), now - timedelta(hours=rng.randint(24, 120)))
    if plan.theme != "birthday_party" and rng.random() < CANCEL_SHARE:
        plan.status = EventStatus.cancelled
        plan.cancel_reason = rng.choice(CANCEL_REASONS)
        plan.cancelled_at = min(plan.starts_at - timedelta(days=1), now - timedelta(hours=1))
    elif plan.ends_at <= now:
        plan.status = EventStatus.completed


def _is_holiday(day: date) -> bool:
    """Statutory holidays (法定节假日), where the tables know the year; otherwise only weekends."""
    try:
        return bool(chinese_calendar.is_holiday(day))
    except NotImplementedError:
        return day.weekday() >= 5


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
