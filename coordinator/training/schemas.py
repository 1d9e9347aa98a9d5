"""Request and answer shapes of the training API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from coordinator.events.schemas import Code, Description, Location, Title
from coordinator.fields import Id, Line, Moment
from coordinator.training.models import EnrolmentSource, EnrolmentStatus

TrainerName = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class CourseCreate(BaseModel):
    """A course organized by a region (its staff) or by a station: give exactly one of the two."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"topic": "儿童福利社会工作能力提升班", "region_id": 3,
                 "target_classes": ["township_station_lead", "social_worker"],
                 "trainers": ["李老师（宁夏大学）"], "capacity": 40}
            ]
        }
    )  # fmt: skip

    topic: Title
    description: Description | None = None
    region_id: Id | None = None
    station_id: Id | None = None
    target_classes: list[Code] = Field(min_length=1, max_length=20)
    trainers: list[TrainerName] = Field(default_factory=list, max_length=20)
    capacity: int = Field(ge=1, le=10_000)

    @model_validator(mode="after")
    def _one_organizer(self) -> CourseCreate:
        if (self.region_id is None) == (self.station_id is None):
            raise ValueError("give either region_id or station_id")
        return self


class CourseOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"id": 1, "topic": "儿童福利社会工作能力提升班", "description": None, "region_id": 3,
                 "station_id": None, "target_classes": ["township_station_lead", "social_worker"],
                 "trainers": ["李老师（宁夏大学）"], "capacity": 40, "enrolled_count": 12,
                 "created_at": "2026-12-04T10:00:00+08:00"}
            ]
        },
    )  # fmt: skip

    id: int
    topic: str
    description: str | None
    region_id: int | None
    station_id: int | None
    target_classes: list[str]
    trainers: list[str]
    capacity: int
    enrolled_count: int
    created_at: datetime


class SessionCreate(BaseModel):
    """A session on the calendar of its host station (a region's course: a station below the region;
    a station's course: that station, which may be left out). Online: ``location`` is the link."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"station_id": 1, "title": "第一讲：儿童保护政策", "starts_at": "2026-12-15T09:00:00+08:00",
                 "ends_at": "2026-12-15T12:00:00+08:00", "location": "凯里市民政局三楼会议室"}
            ]
        }
    )  # fmt: skip

    station_id: Id | None = None
    title: Title | None = None
    starts_at: Moment
    ends_at: Moment
    location: Location | None = None
    online: bool = False


class SessionOut(BaseModel):
    id: int
    course_id: int
    event_id: int
    station_id: int
    title: str = Field(examples=["第一讲：儿童保护政策"])
    starts_at: datetime
    ends_at: datetime
    location: str | None
    online: bool
    status: str
    signed_up: int  # enrolled trainees placed in the session when it was added or they enrolled


class EnrolmentIn(BaseModel):
    person_id: Id = Field(examples=[12])
    trainee_class: Code = Field(examples=["social_worker"])


class EnrolmentAction(StrEnum):
    approve = "approve"  # the organizer, of an application
    reject = "reject"
    accept = "accept"  # the person (or their station's staff), of an invitation
    decline = "decline"
    withdraw = "withdraw"  # an enrolled trainee leaves: the person, their station's staff or the organizer


class EnrolmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    course_id: int
    person_id: int
    trainee_class: str = Field(examples=["social_worker"])
    source: EnrolmentSource
    status: EnrolmentStatus
    created_at: datetime
    decided_at: datetime | None


class TraineeClassOut(BaseModel):
    code: str = Field(examples=["social_worker"])
    label: str
    required_hours: float


class TrainingRecordOut(BaseModel):
    course_id: int
    topic: str = Field(examples=["儿童福利社会工作能力提升班"])
    event_id: int
    starts_at: datetime
    hours: float


class TraineeHoursOut(BaseModel):
    person_id: int
    name: str
    station_id: int
    trainee_class: str
    hours: float = Field(examples=[18.0])
    required_hours: float
    short_by: float  # 0 when the requirement is met


class ClassCount(BaseModel):
    trainee_class: str
    label: str
    trainees: int


class TrainingFigures(BaseModel):
    """Courses and sessions by who organized them; trainees, hours and shortfalls by the trainee's station."""

    region_id: int | None
    station_id: int | None
    name: str
    courses: int
    sessions: int
    trainees: int  # distinct people enrolled in a course with a session in the period
    by_class: list[ClassCount]
    person_times: int
    hours: float
    short_of_requirement: int  # below their yearly requirement with the period's hours


class TrainingStatsOut(BaseModel):
    year: int = Field(examples=[2026])
    rows: list[TrainingFigures]  # one per region (or station) one level down
    totals: TrainingFigures  # the scope itself, counted again: distinct people stay distinct
