"""Themes: the kinds of activity a station runs, and the defaults an event takes from its theme.

The five built-in themes live here as constants (every station has them); a station's own themes
are rows of ``CustomTheme``. ``resolve_theme`` answers both the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import Invalid
from coordinator.events.models import CustomTheme


@dataclass(frozen=True)
class RoleTemplate:
    name: str
    count: int
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    party_members_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "count": self.count,
            "skills": list(self.skills),
            "languages": list(self.languages),
            "party_members_only": self.party_members_only,
        }


@dataclass(frozen=True)
class Theme:
    code: str
    name_zh: str
    name_en: str
    duration_minutes: int
    roles: tuple[RoleTemplate, ...]
    reminder_offsets: tuple[str, ...]  # ISO 8601 durations before the start
    target_categories: tuple[str, ...]
    color: str
    builtin: bool = True
    station_id: int | None = field(default=None, compare=False)


BUILTIN_THEMES: dict[str, Theme] = {
    theme.code: theme
    for theme in (
        Theme(
            code="birthday_party",
            name_zh="我们共成长·集体生日会",
            name_en="Growing Together birthday party",
            duration_minutes=120,
            roles=(
                RoleTemplate("主持", 1),
                RoleTemplate("陪伴志愿者", 6, skills=("childcare",)),
                RoleTemplate("摄影", 1, skills=("photography",)),
            ),
            reminder_offsets=("P1D", "PT2H"),
            target_categories=("left_behind_child", "child_in_difficulty"),
            color="#e8590c",
        ),
        Theme(
            code="festival_visit",
            name_zh="节日慰问",
            name_en="Festival visit",
            duration_minutes=180,
            roles=(
                RoleTemplate("慰问志愿者", 8),
                RoleTemplate("苗语/侗语翻译", 2, skills=("translation",)),
            ),
            reminder_offsets=("P1D", "PT2H"),
            target_categories=("left_behind_child", "left_behind_woman", "left_behind_elderly"),
            color="#c92a2a",
        ),
        Theme(
            code="party_volunteer_drive",
            name_zh="党建引领志愿服务",
            name_en="Party-building volunteer drive",
            duration_minutes=180,
            roles=(
                RoleTemplate("党员志愿者", 6, party_members_only=True),
                RoleTemplate("志愿者", 6),
            ),
            reminder_offsets=("P1D", "PT2H"),
            target_categories=(),
            color="#a61e4d",
        ),
        Theme(
            code="home_visit",
            name_zh="入户走访",
            name_en="Home visit",
            duration_minutes=120,
            roles=(
                RoleTemplate("社工", 1),
                RoleTemplate("走访志愿者", 2),
            ),
            reminder_offsets=("P1D", "PT1H"),
            target_categories=(
                "low_income",
                "extreme_poverty",
                "empty_nest_elderly",
                "child_in_difficulty",
                "disabled",
            ),
            color="#1971c2",
        ),
        Theme(
            code="heritage",
            name_zh="非遗传承",
            name_en="Intangible heritage",
            duration_minutes=150,
            roles=(
                RoleTemplate("传承人", 1, skills=("lusheng",)),
                RoleTemplate("助教志愿者", 3),
            ),
            reminder_offsets=("P1D",),
            target_categories=("left_behind_child", "migrant_child"),
            color="#2f9e44",
        ),
        # Themes of social-work capacity building: a course's sessions (``coordinator.training``),
        # supervision tours, exchange sessions between counties and case showcases.
        Theme(
            code="training",
            name_zh="社工培训",
            name_en="Training session",
            duration_minutes=180,
            roles=(RoleTemplate("学员", 30),),
            reminder_offsets=("P1D", "PT2H"),
            target_categories=(),
            color="#5f3dc4",
        ),
        Theme(
            code="supervision",
            name_zh="督导",
            name_en="Supervision visit",
            duration_minutes=180,
            roles=(RoleTemplate("督导", 1), RoleTemplate("社工", 2)),
            reminder_offsets=("P1D",),
            target_categories=(),
            color="#495057",
        ),
        Theme(
            code="exchange",
            name_zh="经验交流会",
            name_en="Exchange session",
            duration_minutes=180,
            roles=(RoleTemplate("交流代表", 10),),
            reminder_offsets=("P1D",),
            target_categories=(),
            color="#0c8599",
        ),
        Theme(
            code="case_showcase",
            name_zh="优秀案例展示",
            name_en="Case showcase",
            duration_minutes=180,
            roles=(RoleTemplate("案例分享人", 6), RoleTemplate("观摩代表", 20)),
            reminder_offsets=("P1D",),
            target_categories=(),
            color="#e67700",
        ),
    )
}


# Activities that gather people of several stations (a region's training course, an exchange
# between counties, a case showcase): people of other stations may hold places in them.
GATHERING_THEMES = frozenset({"training", "exchange", "case_showcase"})


def theme_from_row(row: CustomTheme) -> Theme:
    return Theme(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        duration_minutes=row.duration_minutes,
        roles=tuple(
            RoleTemplate(
                name=r["name"],
                count=int(r["count"]),
                skills=tuple(r.get("skills", ())),
                languages=tuple(r.get("languages", ())),
                party_members_only=bool(r.get("party_members_only", False)),
            )
            for r in row.roles
        ),
        reminder_offsets=tuple(row.reminder_offsets),
        target_categories=tuple(row.target_categories),
        color=row.color,
        builtin=False,
        station_id=row.station_id,
    )


async def resolve_theme(session: AsyncSession, *, station_id: int, code: str) -> Theme:
    """The built-in theme or the station's own theme called ``code``; 422 ``unknown_theme`` otherwise."""
    if (builtin := BUILTIN_THEMES.get(code)) is not None:
        return builtin
    row = await session.scalar(
        select(CustomTheme).where(CustomTheme.station_id == station_id, CustomTheme.code == code)
    )
    if row is None:
        raise Invalid(
            f"未知的活动主题：{code}", f"Unknown theme: {code}", code="unknown_theme", field="theme"
        )
    return theme_from_row(row)
