"""Request and response bodies of sign-ups, role counts and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coordinator.events.models import SignupSource, SignupStatus
from coordinator.fields import Id, Line

# A role by id, or by its name (as long as a role name may be).
RoleRef = Id | Annotated[Line, StringConstraints(min_length=1, max_length=60)]


class SignupCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"person_id": 12, "role": "党员志愿者"}]}
    )

    person_id: Id
    role: RoleRef | None = Field(
        default=None, description="Role id or name; may be left out when the event has one role"
    )


class SignupOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 301,
                    "event_id": 41,
                    "role_id": 88,
                    "role_name": "党员志愿者",
                    "person_id": 12,
                    "person_name": "杨秀英",
                    "status": "waitlisted",
                    "position": 3,
                    "source": "self",
                    "created_at": "2026-11-29T10:00:00+08:00",
                    "confirmed_at": None,
                    "cancelled_at": None,
                    "invitation_expires_at": None,
                }
            ]
        }
    )

    id: int
    event_id: int
    role_id: int
    role_name: str
    person_id: int
    person_name: str | None = None
    status: SignupStatus
    position: int | None = Field(default=None, description="Place in the role's waitlist (1 = next)")
    source: SignupSource
    created_at: datetime
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    invitation_expires_at: datetime | None = None


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"person_id": 12, "role": 88}]})

    person_id: Id
    role: RoleRef | None = Field(default=None, description="Role id or name")


class InvitationSentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "signup_id": 310,
                    "status": "invited",
                    "expires_at": "2026-12-01T10:00:00+08:00",
                    "token": "eyJhbGciOiJIUzI1NiJ9…",
                    "url": "https://coordinator.example.cn/web/invitation?token=eyJhbGciOiJIUzI1NiJ9…",
                }
            ]
        }
    )

    signup_id: int
    status: SignupStatus
    expires_at: datetime
    token: str
    url: str


class InvitationOut(BaseModel):
    """What the invited person sees behind the link (no login)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "signup_id": 310,
                    "status": "invited",
                    "person_name": "杨秀英",
                    "event_id": 41,
                    "event_title": "重阳节走访慰问",
                    "starts_at": "2026-12-06T09:00:00+08:00",
                    "ends_at": "2026-12-06T11:00:00+08:00",
                    "location": "营盘坡社区",
                    "role_name": "慰问志愿者",
                    "expires_at": "2026-12-01T10:00:00+08:00",
                }
            ]
        }
    )

    signup_id: int
    status: SignupStatus
    person_name: str
    event_id: int
    event_title: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    role_name: str
    expires_at: datetime | None
    position: int | None = None
