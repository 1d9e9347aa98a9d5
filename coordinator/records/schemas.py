"""Request and response shapes of the volunteer service record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from coordinator.fields import Day, Line, Lines
from coordinator.records.models import EntryKind, IdType

Text100 = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
DocumentNumber = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
VolunteerNumber = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Rating = Literal["优秀", "良好", "合格", "不合格"]


class IdentityIn(BaseModel):
    """A person's real-name identity; the number is stored encrypted and answered masked."""

    id_type: IdType = Field(examples=["resident_id"])
    id_number: DocumentNumber = Field(examples=["52260119900101002X"])
    volunteer_number: VolunteerNumber | None = Field(default=None, examples=["52260100012345"])


class IdentityOut(BaseModel):
    id_type: IdType | None
    id_type_label: str | None
    id_number: str | None = Field(
        description="Masked: only the last four characters show", examples=["**************002X"]
    )
    volunteer_number: str | None


class EntryIn(BaseModel):
    """A training (with its hours), a commendation or award, or an evaluation (with a rating)."""

    kind: EntryKind
    day: Day
    title: Text100 = Field(examples=["2026年度优秀志愿者"])
    issuer: Text100 | None = Field(default=None, examples=["凯里市民政局"])
    content: Annotated[Lines, StringConstraints(max_length=2000)] | None = None
    training_hours: float | None = Field(default=None, gt=0, le=1000)
    rating: Rating | None = None

    @model_validator(mode="after")
    def _fits_kind(self) -> EntryIn:
        if self.training_hours is not None and self.kind is not EntryKind.training:
            raise ValueError("training_hours belongs to a training")
        if self.rating is not None and self.kind is not EntryKind.evaluation:
            raise ValueError("rating belongs to an evaluation")
        return self


class EntryOut(BaseModel):
    id: int
    kind: EntryKind
    day: date
    title: str = Field(examples=["2026年度优秀志愿者"])
    issuer: str | None
    content: str | None
    training_hours: float | None
    rating: str | None
    created_at: datetime


class ServiceLineOut(BaseModel):
    event_id: int
    activity: str
    day: date
    starts_at: datetime
    place: str | None
    hours: float


class CertificateBriefOut(BaseModel):
    id: int
    number: str
    hours: float
    issued_at: datetime
    revoked: bool


class DownloadOut(BaseModel):
    """One audited download of a file holding full ID numbers."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    user_id: int | None
    at: datetime
    what: str = Field(examples=["national.xlsx"])
    station_id: int
    from_: date = Field(alias="from")
    to: date
    id_numbers: int = Field(description="How many full ID numbers the file held")
    client_address: str | None


class CourseSessionOut(BaseModel):
    """A training course session the person attended (培训记录 kept by the course's check-in)."""

    course_id: int
    topic: str = Field(examples=["儿童福利社会工作能力提升班"])
    event_id: int
    day: date
    hours: float


class ServiceRecordOut(BaseModel):
    """The record 《志愿服务记录与证明出具办法（试行）》 asks for, with hours as the statistics count them."""

    person_id: int
    name: str
    station_id: int
    identity: IdentityOut
    hours: float = Field(examples=[4.67])
    hours_rule: str
    services: list[ServiceLineOut]
    trainings: list[EntryOut] = Field(description="Trainings staff entered by hand")
    course_sessions: list[CourseSessionOut] = Field(description="Course sessions attended, from check-in")
    commendations: list[EntryOut]
    evaluations: list[EntryOut]
    certificates: list[CertificateBriefOut]
