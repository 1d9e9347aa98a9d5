"""Request and response bodies of the home-visit routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coordinator.fields import Day, Id, Line, Lines, Moment
from coordinator.matching.schemas import ApplyMode, ApplyOutcome, ReasonOut
from coordinator.visits.models import VisitOutcome

Code = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Label = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Action = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Notes = Annotated[Lines, StringConstraints(max_length=4000)]
HourMinute = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])]

# Needs a visit may find (入户走访发现的需求).
NEEDS: dict[str, tuple[str, str]] = {
    "medical": ("医疗", "Medical"),
    "income": ("收入", "Income"),
    "housing": ("住房", "Housing"),
    "education": ("教育", "Education"),
    "psychological": ("心理", "Psychological"),
    "safety": ("安全", "Safety"),
    "daily_care": ("生活照料", "Daily care"),
    "legal": ("法律", "Legal"),
}


class PoliciesIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"policies": {"extreme_poverty": 30, "empty_nest_elderly": 14}}]}
    )

    policies: dict[Code, Annotated[int, Field(ge=1, le=366)]] = Field(max_length=20)


class PoliciesOut(PoliciesIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"station_id": 1, "policies": {"extreme_poverty": 30, "low_income": 90}}]
        }
    )

    station_id: int


class ChecklistItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "food", "label": "粮油充足"}]})

    code: Code
    label: Label


class ChecklistIn(BaseModel):
    items: list[ChecklistItem] = Field(max_length=40)


class ChecklistOut(ChecklistIn):
    station_id: int


class DueOut(BaseModel):
    resident_id: int
    station_id: int
    name: str
    categories: list[str]
    area: str = Field(description="Village group (组/村) read from the address")
    address: str | None
    language: str | None
    phone: str | None = Field(description="Masked unless the caller sees personal data")
    last_visited_at: datetime | None
    interval_days: int
    policy_category: str = Field(description="The category whose policy sets the interval")
    due_on: date
    days_overdue: int
    planned_event_id: int | None = Field(description="A planned itinerary that will visit them")


class DueListOut(BaseModel):
    items: list[DueOut]
    total: int = Field(examples=[37], description="Residents on the whole list")
    next_cursor: str | None = None


class FollowUpIn(BaseModel):
    action: Action = Field(examples=["联系村医上门"])
    owner_person_id: Id | None = None
    due_on: Day


class FollowUpOut(FollowUpIn):
    id: int
    resident_id: int
    visit_record_id: int
    done_at: datetime | None
    overdue: bool


class VisitIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "resident_id": 11,
                    "event_id": 42,
                    "outcome": "visited",
                    "conditions": {"housing_safe": True, "food": False},
                    "needs": ["medical"],
                    "notes": "腿脚不便，需代购药品",
                    "follow_ups": [{"action": "联系村医上门", "owner_person_id": 3, "due_on": "2026-12-10"}],
                }
            ]
        }
    )

    resident_id: Id
    event_id: Id | None = Field(default=None, description="The itinerary (home_visit event), if any")
    visited_at: Moment | None = Field(default=None, description="Default: now")
    outcome: VisitOutcome
    conditions: dict[Code, bool] = Field(default_factory=dict, max_length=40)
    needs: list[Code] = Field(default_factory=list, max_length=len(NEEDS))
    notes: Notes | None = None
    follow_ups: list[FollowUpIn] = Field(default_factory=list, max_length=20)


class VisitOut(BaseModel):
    id: int = Field(examples=[40])
    resident_id: int
    station_id: int
    event_id: int | None
    visited_at: datetime
    outcome: VisitOutcome
    conditions: dict[str, bool]
    needs: list[str]
    notes: str | None
    follow_ups: list[FollowUpOut]


class PlanIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"station_id": 1, "dates": ["2026-12-08", "2026-12-09"]}]}
    )

    station_id: Id
    dates: list[Day] = Field(min_length=1, max_length=14)
    start: HourMinute = "09:00"
    minutes: int = Field(default=180, ge=30, le=600, description="Length of one round")
    stops_per_itinerary: int = Field(default=6, ge=1, le=20)
    itineraries_per_day: int | None = Field(default=None, ge=1, le=50)


class StopOut(BaseModel):
    resident_id: int
    name: str
    address: str | None
    categories: list[str]
    language: str | None
    due_on: date | None = Field(description="None: in no category with a visit policy")
    days_overdue: int | None


class VisitorOut(BaseModel):
    person_id: int
    name: str
    role: str = Field(description="lead (social worker or trained volunteer) or companion")
    score: float
    reasons: list[ReasonOut]


class ItineraryOut(BaseModel):
    date: date
    starts_at: datetime
    ends_at: datetime
    area: str
    stops: list[StopOut]
    visitors: list[VisitorOut]
    unfilled: list[str] = Field(description="Roles nobody eligible could fill")


class PlanOut(BaseModel):
    itineraries: list[ItineraryOut]
    unplanned: int = Field(description="Due residents left for later dates", examples=[0])


class ItineraryVisitor(BaseModel):
    person_id: Id
    role: Annotated[str, Field(pattern="^(lead|companion)$")]


class ItineraryIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station_id": 1,
                    "starts_at": "2026-12-08T09:00:00+08:00",
                    "ends_at": "2026-12-08T12:00:00+08:00",
                    "area": "营盘村三组",
                    "resident_ids": [11, 12, 13],
                    "visitors": [{"person_id": 3, "role": "lead"}, {"person_id": 7, "role": "companion"}],
                    "mode": "invite",
                }
            ]
        }
    )

    station_id: Id
    starts_at: Moment
    ends_at: Moment
    area: Label
    resident_ids: list[Id] = Field(min_length=1, max_length=40)
    visitors: list[ItineraryVisitor] = Field(default_factory=list, max_length=4)
    mode: ApplyMode = ApplyMode.invite


class ItineraryCreatedOut(BaseModel):
    event_id: int = Field(examples=[42])
    status: str
    resident_ids: list[int]
    visitors: list[ApplyOutcome]


class ItineraryStopsOut(BaseModel):
    event_id: int = Field(examples=[42])
    stops: list[StopOut]


class CategoryVisitsOut(BaseModel):
    category: str
    label: str
    interval_days: int
    ledger: int
    due: int = Field(description="Residents due a visit by the period's last day")
    visited: int = Field(description="Of those due, visited in the period")
    visited_on_time: int = Field(description="Of those due, visited by their due day")
    overdue: int = Field(description="Overdue at the end of the period")


class VisitCoverageOut(BaseModel):
    station_id: int
    first: date
    last: date
    categories: list[CategoryVisitsOut]
    visits: int = Field(description="Completed visits (人次)", examples=[412])
    residents_visited: int = Field(description="Distinct residents visited (人)")
    attempts: int = Field(description="Visits that found nobody at home or were refused")
    open_cases: int
    overdue_follow_ups: int
