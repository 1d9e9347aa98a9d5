"""Request and response bodies of case files and the resident timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coordinator.cases.models import CaseStatus, EntryKind
from coordinator.fields import Id, Line, Lines, Moment

Title = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Notes = Annotated[Lines, StringConstraints(max_length=8000)]
EntryNote = Annotated[Lines, StringConstraints(min_length=1, max_length=8000)]


class CaseIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "resident_id": 11,
                    "worker_person_id": 3,
                    "title": "独居老人照料",
                    "visit_record_id": 40,
                    "assessment": "独居，行动不便",
                    "plan": "每周电话问候，每月上门",
                }
            ]
        }
    )

    resident_id: Id
    worker_person_id: Id = Field(description="The case worker (a social worker of the station)")
    title: Title
    assessment: Notes | None = None
    plan: Notes | None = None
    visit_record_id: Id | None = Field(default=None, description="The visit the case was opened from")


class CaseUpdate(BaseModel):
    worker_person_id: Id | None = None
    title: Title | None = None
    assessment: Notes | None = None
    plan: Notes | None = Field(default=None, examples=["每周电话提醒服药，每月上门核对药盒"])


class CaseClose(BaseModel):
    reason: Reason = Field(examples=["子女接回同住"])


class EntryIn(BaseModel):
    kind: EntryKind
    note: EntryNote = Field(examples=["电话回访，按时服药"])
    at: Moment | None = Field(default=None, description="Default: now")
    visit_record_id: Id | None = None


class EntryOut(BaseModel):
    id: int
    kind: EntryKind
    at: datetime
    note: str = Field(examples=["电话回访，按时服药"])
    visit_record_id: int | None
    author_id: int | None


class CaseSummaryOut(BaseModel):
    """A case without its notes: what any staff of the station may list."""

    id: int
    station_id: int
    resident_id: int
    worker_person_id: int
    title: str = Field(examples=["独居老人用药照料"])
    status: CaseStatus
    close_reason: str | None
    opened_at: datetime
    closed_at: datetime | None


class CaseOut(CaseSummaryOut):
    opened_from_visit_id: int | None
    assessment: str | None
    plan: str | None
    entries: list[EntryOut]


class CaseReadOut(BaseModel):
    id: int
    case_id: int
    user_id: int | None
    username: str | None
    read_at: datetime
    what: str = Field(examples=["case"], description="case (the file) or timeline")


class TimelineItem(BaseModel):
    at: datetime
    kind: str = Field(description="visit, activity or case_entry")
    title: str
    detail: str | None = None
    ref_id: int = Field(description="The visit record, event or case entry")
    case_id: int | None = None


class TimelineOut(BaseModel):
    resident_id: int = Field(examples=[11])
    items: list[TimelineItem]
    case_entries_hidden: bool = Field(description="True when the caller may not read case notes")
