"""Request and response shapes of check-ins, rosters, reviews and residents served (offline batches:
``batch_schemas``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.config import JsonDict

from coordinator.attendance.models import AttendanceMethod, AttendanceStatus
from coordinator.fields import Id, Line, Moment

Token = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Note = Annotated[Line, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
PhoneText = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# Staff may approve more than the event's length, but not more than a day for one event.
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
TOKEN_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJlaWQiOjQyfQ.c2lnbmF0dXJl"  # noqa: S105


def _out_not_before_in(checked_in_at: datetime | None, checked_out_at: datetime | None) -> None:
    if checked_in_at is not None and checked_out_at is not None and checked_out_at < checked_in_at:
        raise ValueError("checked_out_at must not be before checked_in_at")


class QrCodeOut(BaseModel):
    """A signed token, the link a phone camera opens, and the QR of that link."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": TOKEN_EXAMPLE,
                    "url": f"https://kaili.example.cn/web/checkin?token={TOKEN_EXAMPLE}",
                    "svg": '<svg xmlns="http://www.w3.org/2000/svg" …</svg>',
                    "png_base64": "iVBORw0KGgo…",
                    "event_id": 42,
                    "opens_at": "2026-12-06T09:00:00+08:00",
                    "closes_at": "2026-12-06T12:00:00+08:00",
                }
            ]
        }
    )

    token: str
    url: str
    svg: str
    png_base64: str
    event_id: int | None = None
    person_id: int | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None


class CheckinIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"token": TOKEN_EXAMPLE, "event_id": 42}]})

    token: Token
    # The event the volunteer's page shows; a code of another event is refused.
    event_id: Id | None = None


class ScanIn(BaseModel):
    """A person's own code, scanned by an organizer at the door."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"token": TOKEN_EXAMPLE, "walk_in": False}]})

    token: Token
    walk_in: bool = Field(default=False, description="Let in someone without a confirmed sign-up")


_ATTENDANCE_EXAMPLE: JsonDict = {
    "id": 7,
    "event_id": 42,
    "person_id": 3,
    "person_name": "杨秀英",
    "status": "present",
    "method": "qr",
    "walk_in": False,
    "checked_in_at": "2026-12-06T09:55:00+08:00",
    "checked_out_at": "2026-12-06T11:50:00+08:00",
    "minutes": 115,
    "hours": 1.92,
    "minutes_overridden": False,
    "approved": True,
    "recorded_by": 2,
    "client_id": None,
    "note": None,
    "created_at": "2026-12-06T09:55:00+08:00",
    "updated_at": "2026-12-06T11:50:00+08:00",
}


class AttendanceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ATTENDANCE_EXAMPLE]})

    id: int
    event_id: int
    person_id: int
    person_name: str
    status: AttendanceStatus
    method: AttendanceMethod | None
    walk_in: bool
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes: int
    hours: float
    minutes_overridden: bool
    approved: bool
    recorded_by: int | None
    client_id: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


CheckinAction = Literal["checked_in", "checked_out", "unchanged"]


class CheckinOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"action": "checked_out", "attendance": _ATTENDANCE_EXAMPLE}]}
    )

    action: CheckinAction
    attendance: AttendanceOut


class RosterRecord(BaseModel):
    """One line of the roster: a known person (``person_id``) or a walk-in given by name and phone."""

    person_id: Id | None = None
    name: Name | None = None
    phone: PhoneText | None = None
    present: bool | None = None
    status: AttendanceStatus | None = Field(default=None, description="Wins over `present` when both given")
    checked_in_at: Moment | None = Field(default=None, description="Default: the event's start")
    checked_out_at: Moment | None = Field(default=None, description="Default: the event's end")
    walk_in: bool = Field(default=False, description="Came without a confirmed sign-up")
    note: Note | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RosterRecord:
        if (self.person_id is None) == (self.phone is None):
            raise ValueError("give either person_id or name and phone of a walk-in")
        if self.phone is not None and self.name is None:
            raise ValueError("a walk-in needs a name")
        if self.present is None and self.status is None:
            raise ValueError("give present or status")
        _out_not_before_in(self.checked_in_at, self.checked_out_at)
        return self


class RosterIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "records": [
                        {"person_id": 3, "present": True},
                        {"person_id": 4, "status": "late", "checked_in_at": "2026-12-06T09:40:00+08:00"},
                        {"person_id": 5, "present": False},
                        {"name": "吴金花", "phone": "13812341234", "present": True},
                    ]
                }
            ]
        }
    )

    records: list[RosterRecord] = Field(min_length=1, max_length=500)


class RosterOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_ATTENDANCE_EXAMPLE], "created": 1, "updated": 0, "unchanged": 0}]
        }
    )

    items: list[AttendanceOut]
    created: int
    updated: int
    unchanged: int


class SelfReportIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "checked_in_at": "2026-12-06T09:00:00+08:00",
                    "checked_out_at": "2026-12-06T11:00:00+08:00",
                    "note": "入户走访，村里没有社工在场",
                }
            ]
        }
    )

    checked_in_at: Moment
    checked_out_at: Moment
    note: Note | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SelfReportIn:
        _out_not_before_in(self.checked_in_at, self.checked_out_at)
        return self


class ApproveIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"minutes": 150, "reason": "走访路远，超时"}]})

    minutes: Minutes | None = Field(default=None, description="Approve this many minutes, even past the cap")
    reason: Note | None = None


class AttendancePatch(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"checked_out_at": "2026-12-06T12:30:00+08:00", "reason": "漏扫签退"}]
        }
    )

    status: AttendanceStatus | None = None
    checked_in_at: Moment | None = None
    checked_out_at: Moment | None = None
    minutes: Minutes | None = Field(
        default=None, description="Set the minutes (may exceed the event's length); null: compute again"
    )
    note: Note | None = None
    reason: Note | None = Field(default=None, description="Why, kept in the audit trail")

    @model_validator(mode="after")
    def _ordered(self) -> AttendancePatch:
        if "status" in self.model_fields_set and self.status is None:
            raise ValueError("status may not be null")
        _out_not_before_in(self.checked_in_at, self.checked_out_at)
        return self


class AuditOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 9,
                    "changed_by": 7,
                    "changed_at": "2026-12-19T17:10:00+08:00",
                    "field": "checked_out_at",
                    "before": "2026-12-19T08:00:00+00:00",
                    "after": "2026-12-19T08:30:00+00:00",
                    "reason": "帮忙收拾场地，多留了半小时",
                }
            ]
        }
    )

    id: int
    changed_by: int | None
    changed_at: datetime
    field: str
    before: str | None
    after: str | None
    reason: str | None


class ServedIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"resident_ids": [11, 12], "headcount": 30}]})

    resident_ids: list[Id] = Field(default_factory=list, max_length=1000)
    headcount: int | None = Field(default=None, ge=0, le=100_000, description="Anonymous residents served")

    @model_validator(mode="after")
    def _something(self) -> ServedIn:
        if not self.resident_ids and self.headcount is None:
            raise ValueError("give resident_ids or headcount")
        return self


class ServedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"event_id": 42, "resident_ids": [11, 12], "headcount": 30, "added": [12]}]
        }
    )

    event_id: int
    resident_ids: list[int]
    headcount: int
    added: list[int] = Field(default_factory=list)
