"""Request and response shapes of series (recurring activities)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from coordinator.events.models import EventStatus
from coordinator.events.schemas import (
    Code,
    Description,
    Location,
    Offsets,
    RoleIn,
    Title,
    _distinct_role_names,
)
from coordinator.fields import Day, Id, Line

LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
RuleText = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
FestivalCode = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Duration = Annotated[int, Field(ge=5, le=7 * 24 * 60)]


class SeriesCreate(BaseModel):
    """Exactly one of ``rrule`` (RFC 5545, e.g. ``FREQ=MONTHLY;BYDAY=-1SA``) and ``festival``
    (``spring_festival``, ``lantern``, ``dragon_boat``, ``qixi``, ``mid_autumn``, ``double_ninth``,
    ``laba``, ``winter_solstice``, ``qingming``). Times are the station's wall clock. What is left
    out comes from the theme; ``publish`` publishes each occurrence as it is created."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station_id": 1,
                    "theme": "birthday_party",
                    "title": "我们共成长·月度集体生日会",
                    "rrule": "FREQ=MONTHLY;BYDAY=-1SA",
                    "starts_on": "2026-12-01",
                    "start_time": "14:30",
                    "location": "营盘坡社区儿童之家",
                    "publish": True,
                },
                {
                    "station_id": 1,
                    "theme": "festival_visit",
                    "festival": "double_ninth",
                    "starts_on": "2026-01-01",
                    "start_time": "09:00",
                },
            ]
        }
    )

    station_id: Id
    theme: Code
    title: Title | None = None
    description: Description | None = None
    rrule: RuleText | None = None
    festival: FestivalCode | None = None
    starts_on: Day
    until: Day | None = None
    start_time: LocalTime
    duration_minutes: Duration | None = None
    location: Location | None = None
    organization_id: Id | None = None
    roles: list[RoleIn] | None = Field(default=None, min_length=1, max_length=20)
    reminder_offsets: Offsets | None = None
    target_categories: list[Code] | None = Field(default=None, max_length=20)
    publish: bool = False

    _roles = field_validator("roles")(_distinct_role_names)


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("may not be null")
    return value


class SeriesUpdate(BaseModel):
    """Only the fields sent change. Sending ``rrule`` drops the festival and the other way round.
    Future occurrences that were not edited on their own follow the change; past ones stay."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"start_time": "15:00", "rrule": "FREQ=MONTHLY;BYDAY=-1SU"}]}
    )

    title: Title | None = None
    description: Description | None = None
    rrule: RuleText | None = None
    festival: FestivalCode | None = None
    starts_on: Day | None = None
    until: Day | None = None
    start_time: LocalTime | None = None
    duration_minutes: Duration | None = None
    location: Location | None = None
    organization_id: Id | None = None
    roles: list[RoleIn] | None = Field(default=None, min_length=1, max_length=20)
    reminder_offsets: Offsets | None = None
    target_categories: list[Code] | None = Field(default=None, max_length=20)
    publish: bool | None = None

    _roles = field_validator("roles")(_distinct_role_names)
    _required = field_validator(
        "title",
        "starts_on",
        "start_time",
        "duration_minutes",
        "roles",
        "reminder_offsets",
        "target_categories",
        "publish",
    )(_refuse_null)


class OccurrenceOut(BaseModel):
    event_id: int
    occurrence_key: str
    starts_at: datetime
    status: EventStatus
    detached: bool


class SeriesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "station_id": 1,
                    "organization_id": None,
                    "theme": "festival_visit",
                    "title": "重阳节·节日慰问",
                    "description": None,
                    "location": None,
                    "rrule": None,
                    "festival": "double_ninth",
                    "starts_on": "2026-01-01",
                    "until": None,
                    "start_time": "09:00",
                    "duration_minutes": 180,
                    "roles": [{"name": "慰问志愿者", "count": 8}],
                    "reminder_offsets": ["P1D", "PT2H"],
                    "target_categories": ["left_behind_elderly"],
                    "publish": False,
                    "is_active": True,
                    "materialized_until": "2027-02-27T09:00:00+08:00",
                    "created_at": "2026-11-29T10:00:00+08:00",
                    "updated_at": "2026-11-29T10:00:00+08:00",
                    "upcoming": [],
                }
            ]
        }
    )

    id: int
    station_id: int
    organization_id: int | None
    theme: str
    title: str
    description: str | None
    location: str | None
    rrule: str | None
    festival: str | None
    starts_on: date
    until: date | None
    start_time: str
    duration_minutes: int
    roles: list[RoleIn]
    reminder_offsets: list[str]
    target_categories: list[str]
    publish: bool
    is_active: bool
    materialized_until: datetime | None
    created_at: datetime
    updated_at: datetime
    # Occurrences from now on (single-series answers only; lists leave it empty).
    upcoming: list[OccurrenceOut] = Field(default_factory=list)
