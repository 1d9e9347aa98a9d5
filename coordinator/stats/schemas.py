"""Response shapes of statistics (field names fixed by the API contract, DESIGN §4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_FIGURES_EXAMPLE: dict[str, Any] = {
    "events": 12,
    "person_times": 148,
    "distinct_people": 41,
    "party_member_person_times": 63,
    "distinct_party_members": 17,
    "social_worker_person_times": 12,
    "volunteer_hours": 311.5,
    "residents_served_person_times": 420,
    "distinct_residents_served": 96,
    "no_show_rate": 0.0533,
}


class FiguresOut(BaseModel):
    """Person-times (人次) and distinct people (人) side by side; hours from approved attendance."""

    model_config = ConfigDict(json_schema_extra={"example": _FIGURES_EXAMPLE})

    events: int = Field(description="Activities (not cancelled, not drafts)")
    person_times: int = Field(description="人次: one person attending one activity")
    distinct_people: int = Field(description="人: each person once")
    party_member_person_times: int
    distinct_party_members: int
    social_worker_person_times: int
    volunteer_hours: float
    residents_served_person_times: int = Field(description="Named residents per activity plus headcounts")
    distinct_residents_served: int = Field(description="Named ledger residents, each once")
    no_show_rate: float = Field(description="No-shows among the people expected (attended + no-shows)")


class ParticipationRow(FiguresOut):
    """One group: the dimensions asked for in ``group_by`` carry its key, the others are null."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"month": "2026-11", "theme": "home_visit", **_FIGURES_EXAMPLE}}
    )

    station_id: int | None = None
    region_id: int | None = None
    theme: str | None = None
    organization_id: int | None = None
    month: str | None = Field(default=None, examples=["2026-11"])
    week: str | None = Field(default=None, examples=["2026-W48"])
    role: str | None = None
    party_branch: str | None = None


class ParticipationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "group_by": ["month", "theme"],
                "from": "2026-01-01",
                "to": "2026-12-31",
                "source": "rollup",
                "rows": [{"month": "2026-11", "theme": "home_visit", **_FIGURES_EXAMPLE}],
                "totals": _FIGURES_EXAMPLE,
            }
        },
        populate_by_name=True,
    )

    group_by: list[str]
    from_: date = Field(alias="from")
    to: date
    source: Literal["rollup", "recount"] = Field(
        description="rollup: the maintained aggregate tables; recount: counted from attendance rows"
    )
    rows: list[ParticipationRow]
    totals: FiguresOut


class ActivityOut(BaseModel):
    event_id: int
    title: str
    theme: str
    starts_at: datetime
    status: str
    minutes: int
    hours: float


class MonthHoursOut(BaseModel):
    month: str = Field(examples=["2026-11"])
    activities: int
    hours: float


class PersonStatsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "person_id": 7, "name": "杨秀英", "station_id": 1, "activities": 3, "hours": 6.5,
                "by_month": [{"month": "2026-11", "activities": 3, "hours": 6.5}],
                "items": [{"event_id": 42, "title": "重阳节入户走访", "theme": "home_visit",
                           "starts_at": "2026-10-29T09:00:00+08:00", "status": "present",
                           "minutes": 150, "hours": 2.5}],
            }
        }
    )  # fmt: skip

    person_id: int
    name: str
    station_id: int
    activities: int
    hours: float
    by_month: list[MonthHoursOut]
    items: list[ActivityOut]


class CategoryCoverageOut(BaseModel):
    category: str
    label: str
    ledger: int = Field(description="Active residents of the category on the ledger")
    served: int = Field(description="Of them, served at least once in the period")
    not_served: int


class UnvisitedResidentOut(BaseModel):
    id: int
    name: str
    categories: list[str]
    phone: str | None
    address: str | None
    last_served_at: datetime | None


class CoverageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "station_id": 1, "days": 30, "since": "2026-10-30T10:00:00+08:00", "ledger": 120,
                "served": 87, "personal_data_masked": True,
                "categories": [{"category": "empty_nest_elderly", "label": "空巢老人", "ledger": 40,
                                "served": 31, "not_served": 9}],
                "not_visited": [{"id": 5, "name": "龙老太", "categories": ["empty_nest_elderly"],
                                 "phone": "138****1234", "address": "大十字社区3栋",
                                 "last_served_at": None}],
            }
        }
    )  # fmt: skip

    station_id: int
    days: int
    since: datetime
    ledger: int
    served: int
    personal_data_masked: bool
    categories: list[CategoryCoverageOut]
    not_visited: list[UnvisitedResidentOut]
