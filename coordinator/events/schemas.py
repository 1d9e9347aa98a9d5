"""Request and response shapes of themes and events.

Skills, languages and categories arrive as codes and are checked against the station's
vocabulary by the service (they depend on the station); shapes check everything that does not."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from coordinator.events.durations import check_offsets
from coordinator.events.models import EventStatus
from coordinator.events.themes import Theme
from coordinator.fields import Id, Line, Lines, Moment, within_years

Title = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
RoleName = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Location = Annotated[Line, StringConstraints(strip_whitespace=True, max_length=200)]
Description = Annotated[Lines, StringConstraints(max_length=5000)]
Code = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
ThemeCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Reason = Annotated[Line, StringConstraints(strip_whitespace=True, max_length=200)]
Places = Annotated[int, Field(ge=0, le=10_000)]
Offsets = Annotated[
    list[str], Field(max_length=10, examples=[["P1D", "PT2H"]]), AfterValidator(check_offsets)
]

_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_or_instant(value: object) -> date:
    """A bare ``2026-12-05`` is a day; anything else must be a date-time with its offset (a
    ``datetime``, which is a ``date`` too)."""
    if isinstance(value, date):
        found: date | None = value
    else:
        try:
            text = str(value)
            found = date.fromisoformat(text) if _PLAIN_DATE.fullmatch(text) else datetime.fromisoformat(text)
        except ValueError:
            found = None
    naive = isinstance(found, datetime) and found.utcoffset() is None
    # The first and last representable days have no neighbour to take as their start or end.
    if found is None or naive or found in (date.min, date.max):
        raise ValueError(
            "should be a date (2026-12-05) or a date-time with its offset (2026-12-05T09:00:00+08:00)"
        )
    return found


# A bound of an event list: an instant with its offset, or a local day of the station, in the
# years the service plans for.
DayOrInstant = Annotated[
    datetime | date,
    PlainValidator(_day_or_instant),
    AfterValidator(within_years),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}
    ),
]


class RoleIn(BaseModel):
    """A role and its places; skills and languages are codes of the station's vocabulary."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "陪伴志愿者", "count": 6, "skills": ["childcare"]}]}
    )

    name: RoleName
    count: Places
    skills: list[Code] = Field(default_factory=list, max_length=20)
    languages: list[Code] = Field(default_factory=list, max_length=20)
    party_members_only: bool = False


def _distinct_role_names(roles: list[RoleIn] | None) -> list[RoleIn] | None:
    if roles is not None and len({r.name for r in roles}) != len(roles):
        raise ValueError("each role name may appear once")
    return roles


class ThemeCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station_id": 1,
                    "code": "lusheng_class",
                    "name_zh": "芦笙课堂",
                    "name_en": "Lusheng class",
                    "duration_minutes": 90,
                    "roles": [{"name": "芦笙老师", "count": 1, "skills": ["lusheng"]}],
                    "reminder_offsets": ["P1D", "PT2H"],
                    "target_categories": ["left_behind_child"],
                    "color": "#2f9e44",
                }
            ]
        }
    )

    station_id: Id
    code: ThemeCode
    name_zh: Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    name_en: Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    duration_minutes: int = Field(ge=5, le=7 * 24 * 60)
    roles: list[RoleIn] = Field(min_length=1, max_length=20)
    reminder_offsets: Offsets = Field(default_factory=lambda: ["P1D"])
    target_categories: list[Code] = Field(default_factory=list, max_length=20)
    color: Color = "#495057"

    _roles = field_validator("roles")(_distinct_role_names)


class ThemeOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    duration_minutes: int
    roles: list[RoleIn]
    reminder_offsets: list[str]
    target_categories: list[str]
    color: str
    builtin: bool
    station_id: int | None


class ThemeList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "code": "birthday_party",
                            "name_zh": "我们共成长·集体生日会",
                            "name_en": "Growing Together birthday party",
                            "duration_minutes": 120,
                            "roles": [
                                {
                                    "name": "主持",
                                    "count": 1,
                                    "skills": [],
                                    "languages": [],
                                    "party_members_only": False,
                                },
                                {
                                    "name": "陪伴志愿者",
                                    "count": 6,
                                    "skills": ["childcare"],
                                    "languages": [],
                                    "party_members_only": False,
                                },
                            ],
                            "reminder_offsets": ["P1D", "PT2H"],
                            "target_categories": ["left_behind_child", "child_in_difficulty"],
                            "color": "#e8590c",
                            "builtin": True,
                            "station_id": None,
                        }
                    ]
                }
            ]
        }
    )

    items: list[ThemeOut]


class EventCreate(BaseModel):
    """Left-out fields take the theme's defaults: title, end (start + duration), roles,
    reminder offsets and target categories. ``capacity`` defaults to the sum of the role counts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station_id": 1,
                    "theme": "birthday_party",
                    "starts_at": "2026-12-12T14:00:00+08:00",
                    "location": "营盘坡社区儿童之家",
                    "organization_id": 2,
                }
            ]
        }
    )

    station_id: Id
    theme: Code
    title: Title | None = None
    description: Description | None = None
    starts_at: Moment
    ends_at: Moment | None = None
    location: Location | None = None
    organization_id: Id | None = None
    capacity: Places | None = None
    roles: list[RoleIn] | None = Field(default=None, min_length=1, max_length=20)
    reminder_offsets: Offsets | None = None
    target_categories: list[Code] | None = Field(default=None, max_length=20)

    _roles = field_validator("roles")(_distinct_role_names)


class RolePatch(RoleIn):
    """Changes the role with this ``id`` (or, without one, the role of this name); adds it if none."""

    id: Id | None = None


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("may not be null")
    return value


class EventUpdate(BaseModel):
    """Only the fields sent change. Times change through ``/reschedule``, status through its routes.

    Roles are matched by ``id`` (or name) and changed in place; unknown ones are added. Without
    ``capacity``, a capacity equal to the old sum of the counts follows the new sum, and a capacity
    set apart from the counts stays (the new counts must fit in it)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"location": "村委会二楼", "roles": [{"name": "摄影", "count": 2}]}]}
    )

    title: Title | None = None
    description: Description | None = None
    location: Location | None = None
    organization_id: Id | None = None
    capacity: Places | None = None
    roles: list[RolePatch] | None = Field(default=None, max_length=20)
    reminder_offsets: Offsets | None = None
    target_categories: list[Code] | None = Field(default=None, max_length=20)

    _required = field_validator("title", "capacity", "roles", "reminder_offsets", "target_categories")(
        _refuse_null
    )


class RescheduleIn(BaseModel):
    """Without ``ends_at`` the event keeps its length."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"starts_at": "2026-12-13T14:00:00+08:00"}]})

    starts_at: Moment
    ends_at: Moment | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "暴雨预警，活动取消"}]})

    reason: Reason | None = None


class HolidayOut(BaseModel):
    """A statutory holiday (``in_lieu``: a day off moved from a weekend) or a make-up workday."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "holiday", "name": "Mid-autumn Festival", "name_zh": "中秋节", "in_lieu": False}
            ]
        }
    )

    kind: Literal["holiday", "makeup_workday"]
    name: str
    name_zh: str
    in_lieu: bool = False


class RoleOut(BaseModel):
    id: int
    name: str
    count: int
    confirmed: int
    waitlisted: int
    skills: list[str]
    languages: list[str]
    party_members_only: bool


class EventOut(BaseModel):
    """Times are shown in the station's zone (``+08:00`` in Guizhou)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "station_id": 1,
                    "organization_id": None,
                    "series_id": 5,
                    "detached": False,
                    "theme": "birthday_party",
                    "title": "十二月集体生日会",
                    "description": None,
                    "location": "营盘坡社区儿童之家",
                    "starts_at": "2026-12-19T14:00:00+08:00",
                    "ends_at": "2026-12-19T16:00:00+08:00",
                    "capacity": 8,
                    "status": "published",
                    "roles": [
                        {
                            "id": 101,
                            "name": "陪伴志愿者",
                            "count": 6,
                            "confirmed": 4,
                            "waitlisted": 0,
                            "skills": ["childcare"],
                            "languages": [],
                            "party_members_only": False,
                        }
                    ],
                    "reminder_offsets": ["P1D", "PT2H"],
                    "target_categories": ["left_behind_child"],
                    "holiday": None,
                    "cancel_reason": None,
                    "sequence": 0,
                    "created_at": "2026-11-29T10:00:00+08:00",
                    "updated_at": "2026-11-29T10:00:00+08:00",
                    "published_at": "2026-11-29T10:05:00+08:00",
                    "cancelled_at": None,
                    "completed_at": None,
                }
            ]
        }
    )

    id: int
    station_id: int
    organization_id: int | None
    series_id: int | None
    detached: bool
    theme: str
    title: str
    description: str | None
    location: str | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    status: EventStatus
    roles: list[RoleOut]
    reminder_offsets: list[str]
    target_categories: list[str]
    holiday: HolidayOut | None
    cancel_reason: str | None
    sequence: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None


class CalendarTokenOut(BaseModel):
    """A new feed address; every address issued before for this person stops working."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "eyJhbGciOiJIUzI1NiJ9…",
                    "url": "https://coordinator.example/api/v1/people/7/calendar.ics?token=eyJ…",
                    "webcal_url": "webcal://coordinator.example/api/v1/people/7/calendar.ics?token=eyJ…",
                }
            ]
        }
    )

    token: str
    url: str
    webcal_url: str


def role_dicts(roles: list[RoleIn]) -> list[dict[str, Any]]:
    return [role.model_dump(exclude={"id"}) for role in roles]


def theme_roles(theme: Theme) -> list[RoleIn]:
    """A theme's default roles, as an event or a series takes them when it names none."""
    return [RoleIn.model_validate(template.as_dict()) for template in theme.roles]
