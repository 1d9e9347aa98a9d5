"""Request and response shapes of offline batches: records made without signal, and each one's outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from coordinator.attendance.schemas import TOKEN_EXAMPLE, Name, PhoneText, Token
from coordinator.fields import Id, Line, Moment

ClientId = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class BatchRecord(BaseModel):
    """One record made offline: its client-made id, the event, the person (id, scanned code, or a
    walk-in's name and phone), the kind and the device's time."""

    client_id: ClientId
    event_id: Id
    person_id: Id | None = None
    person_token: Token | None = None
    name: Name | None = Field(default=None, description="A walk-in's name (with `phone`)")
    phone: PhoneText | None = Field(
        default=None, description="A walk-in's phone: the station's person with it, or a new one"
    )
    kind: Literal["checkin", "checkout"]
    at: Moment
    late: bool = Field(default=False, description="A check-in ticked as late: the status is `late`")
    walk_in: bool = False

    @model_validator(mode="after")
    def _one_person(self) -> BatchRecord:
        given = [self.person_id is not None, self.person_token is not None, self.phone is not None]
        if given.count(True) != 1:
            raise ValueError("give one of person_id, person_token, or name and phone of a walk-in")
        if self.phone is not None and self.name is None:
            raise ValueError("a walk-in needs a name")
        if self.late and self.kind != "checkin":
            raise ValueError("only a check-in can be late")
        return self


class BatchIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "records": [
                        {
                            "client_id": "a1f7c6e2-0c1b-4c4e-9a55-3f1f9d3b2c10",
                            "event_id": 42,
                            "person_id": 3,
                            "kind": "checkin",
                            "at": "2026-12-06T09:52:10+08:00",
                        },
                        {
                            "client_id": "b2e8d7f3-1d2c-4d5f-8b66-4a2a0e4c3d21",
                            "event_id": 42,
                            "person_token": TOKEN_EXAMPLE,
                            "kind": "checkout",
                            "at": "2026-12-06T11:58:40+08:00",
                        },
                        {
                            "client_id": "c3f9e8a4-2e3d-4e6a-9c77-5b3b1f5d4e32",
                            "event_id": 42,
                            "name": "吴金花",
                            "phone": "13812341234",
                            "kind": "checkin",
                            "at": "2026-12-06T10:05:00+08:00",
                            "late": True,
                        },
                    ]
                }
            ]
        }
    )

    records: list[BatchRecord] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _distinct_client_ids(self) -> BatchIn:
        ids = [r.client_id for r in self.records]
        if len(set(ids)) != len(ids):
            raise ValueError("client_id must be unique within a batch")
        return self


BatchOutcome = Literal["applied", "unchanged", "conflict", "replayed", "rejected"]


class BatchRecordResult(BaseModel):
    """``conflict``: another time was already stored; the earliest check-in and the latest check-out
    win, ``resolution`` says which one is kept."""

    client_id: str
    outcome: BatchOutcome
    attendance_id: int | None = None
    person_id: int | None = Field(default=None, description="Who the record named, once known")
    resolution: Literal["kept_stored", "replaced_stored"] | None = None
    stored_at: datetime | None = None
    code: str | None = None
    message: str | None = None
    message_en: str | None = None


class BatchOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {"client_id": "a1f7c6e2", "outcome": "applied", "attendance_id": 7},
                        {
                            "client_id": "b2e8d7f3",
                            "outcome": "conflict",
                            "attendance_id": 7,
                            "resolution": "replaced_stored",
                            "stored_at": "2026-12-06T02:05:00Z",
                        },
                        {"client_id": "c3f9e8a4", "outcome": "replayed"},
                        {
                            "client_id": "d4a0f9b5",
                            "outcome": "rejected",
                            "code": "not_signed_up",
                            "message": "此人未确认报名该活动；如为现场参加，请标记为临时参加",
                            "message_en": "Person 3 has no confirmed sign-up for this event",
                        },
                    ]
                }
            ]
        }
    )

    results: list[BatchRecordResult]
