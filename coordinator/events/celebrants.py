"""Birthday celebrants: who a monthly birthday party (我们共成长·集体生日会) is for.

The station's active residents in the party's target categories (the theme's, by default
``left_behind_child`` and ``child_in_difficulty``) whose birthday falls in the party's month.
Solar birthdays are matched directly; lunar birthdays are converted for that year, so the same
child may celebrate in September one year and in October the next (``people.birthdays``).
Phones and ID numbers are masked for roles that may not see them, as everywhere else. They see
the age turned but not the day (the list is in name order for them): a day with the age is the
birth date, which fills in the hidden digits of an ID number.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from lunar_python import Solar
from pydantic import BaseModel, ConfigDict
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.auth.principal import Principal
from coordinator.deps import ClockDep, PrincipalDep, SessionDep
from coordinator.errors import ERROR_RESPONSES, Conflict, Invalid
from coordinator.events import service
from coordinator.events.event_fields import check_categories
from coordinator.events.themes import resolve_theme
from coordinator.fields import Id, Line
from coordinator.people.birthdays import MAX_YEAR, MIN_YEAR, birthday_in_month
from coordinator.people.models import Resident, ResidentCategoryRow
from coordinator.people.schemas import ResidentOut
from coordinator.people.shaping import resident_out, station_zones
from coordinator.stations.service import get_station

BIRTHDAY_THEME = "birthday_party"
# The category a birthday party is for when the event names none.
DEFAULT_CATEGORIES = ("left_behind_child",)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)


class CelebrantOut(BaseModel):
    resident: ResidentOut
    # The solar date of the birthday in that month; null for callers who may not see personal data.
    celebrated_on: date | None
    # Years reached on that birthday (lunar birthdays count lunar years); unknown without a birth year.
    turning: int | None


class CelebrantList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station_id": 1,
                    "event_id": 12,
                    "month": "2026-12",
                    "categories": ["left_behind_child", "child_in_difficulty"],
                    "items": [
                        {
                            "resident": {
                                "id": 31,
                                "station_id": 1,
                                "name": "吴小花",
                                "categories": ["left_behind_child"],
                                "birthday": None,
                                "age": 9,
                                "birthday_is_lunar": False,
                                "birthday_leap_month": False,
                                "gender": "female",
                                "language": "miao",
                                "household": None,
                                "address": None,
                                "phone": None,
                                "id_number": None,
                                "notes": None,
                                "is_active": True,
                                "personal_data_masked": True,
                                "created_at": "2026-11-29T10:00:00+08:00",
                                "updated_at": "2026-11-29T10:00:00+08:00",
                            },
                            "celebrated_on": None,
                            "turning": 10,
                        }
                    ],
                }
            ]
        }
    )

    station_id: int
    event_id: int | None = None
    month: str
    categories: list[str]
    items: list[CelebrantOut]


async def find_celebrants(
    session: AsyncSession, *, station_id: int, year: int, month: int, categories: list[str]
) -> list[tuple[Resident, date, int | None]]:
    """(resident, celebrated on, turning) in date then name order."""
    rows = await session.scalars(
        select(Resident)
        .where(
            Resident.station_id == station_id,
            Resident.is_active.is_(True),
            Resident.birth_month.is_not(None),
            Resident.birth_day.is_not(None),
            exists().where(
                ResidentCategoryRow.resident_id == Resident.id, ResidentCategoryRow.category.in_(categories)
            ),
        )
        .options(selectinload(Resident.category_rows))
        .order_by(Resident.id)
    )
    found: list[tuple[Resident, date, int | None]] = []
    for resident in rows:
        assert resident.birth_month is not None
        assert resident.birth_day is not None
        celebrated = birthday_in_month(
            month=resident.birth_month,
            day=resident.birth_day,
            is_lunar=resident.birthday_is_lunar,
            leap_month=resident.birthday_leap_month,
            year=year,
            target_month=month,
        )
        if celebrated is not None:
            found.append((resident, celebrated, _turning(resident, celebrated)))
    return sorted(found, key=lambda item: (item[1], item[0].name, item[0].id))


def _turning(resident: Resident, celebrated: date) -> int | None:
    if resident.birth_year is None:
        return None
    if not resident.birthday_is_lunar:
        return celebrated.year - resident.birth_year
    lunar_year = Solar.fromYmd(celebrated.year, celebrated.month, celebrated.day).getLunar().getYear()
    return int(lunar_year) - resident.birth_year


async def _answer(
    session: AsyncSession,
    principal: Principal,
    *,
    station_id: int,
    year: int,
    month: int,
    categories: list[str],
    now: datetime,
    event_id: int | None = None,
) -> CelebrantList:
    zone = (await station_zones(session, [station_id]))[station_id]
    found = await find_celebrants(
        session, station_id=station_id, year=year, month=month, categories=categories
    )
    masked = not principal.sees_personal_data(station_id)
    if masked:
        found.sort(key=lambda item: (item[0].name, item[0].id))
    return CelebrantList(
        station_id=station_id,
        event_id=event_id,
        month=f"{year:04d}-{month:02d}",
        categories=categories,
        items=[
            CelebrantOut(
                resident=resident_out(resident, zone, principal, now),
                celebrated_on=None if masked else day,
                turning=turning,
            )
            for resident, day, turning in found
        ],
    )


@router.get(
    "/events/{event_id}/celebrants",
    response_model=CelebrantList,
    summary="Residents whose birthday falls in a birthday party's month",
)
async def event_celebrants(
    event_id: Id, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> CelebrantList:
    """For ``birthday_party`` events: the station's residents of the event's target categories
    whose solar or lunar birthday falls in the month (station time) the party takes place."""
    principal.require_staff()
    event = await service.get_event_for(session, principal, event_id)
    if event.theme != BIRTHDAY_THEME:
        raise Conflict(
            "只有集体生日会活动才有寿星名单",
            "Only birthday_party events have celebrants",
            code="not_a_birthday_party",
        )
    zone = (await station_zones(session, [event.station_id]))[event.station_id]
    local = event.starts_at.astimezone(zone)
    categories = list(event.target_categories) or list(DEFAULT_CATEGORIES)
    return await _answer(
        session,
        principal,
        station_id=event.station_id,
        year=local.year,
        month=local.month,
        categories=categories,
        now=clock.now(),
        event_id=event.id,
    )


@router.get(
    "/stations/{station_id}/celebrants",
    response_model=CelebrantList,
    summary="Residents whose birthday falls in a month",
)
async def station_celebrants(
    station_id: Id,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    month: Annotated[Line | None, Query(description="YYYY-MM; this month (station time) if left out")] = None,
    category: Annotated[
        list[Line] | None, Query(description="Resident categories; the birthday party theme's if left out")
    ] = None,
) -> CelebrantList:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=station_id)
    if month is None:
        zone = (await station_zones(session, [station_id]))[station_id]
        today = clock.now().astimezone(zone)
        year, number = today.year, today.month
    else:
        year, number = _parse_month(month)
    if category:
        categories = check_categories(category)
    else:
        theme = await resolve_theme(session, station_id=station_id, code=BIRTHDAY_THEME)
        categories = list(theme.target_categories) or list(DEFAULT_CATEGORIES)
    return await _answer(
        session,
        principal,
        station_id=station_id,
        year=year,
        month=number,
        categories=categories,
        now=clock.now(),
    )


def _parse_month(text: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(text)
    if match is None or not MIN_YEAR < int(match.group(1)) < MAX_YEAR:
        raise Invalid(
            f"月份格式应为 YYYY-MM（{MIN_YEAR + 1}–{MAX_YEAR - 1}年）：{text}",
            f"month must be YYYY-MM between {MIN_YEAR + 1} and {MAX_YEAR - 1}: {text!r}",
            code="invalid_month",
            field="month",
        )
    return int(match.group(1)), int(match.group(2))
