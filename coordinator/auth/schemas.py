from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from coordinator.auth.models import Role
from coordinator.fields import Id


class TokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.…", "token_type": "bearer"}]
        }
    )

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)


class UserCreate(BaseModel):
    username: str = Field(
        min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$", examples=["wang.organizer"]
    )
    password: str = Field(min_length=8, max_length=128, examples=["a long passphrase"])
    role: Role = Field(examples=["organizer"])
    station_ids: list[Id] = Field(default_factory=list, examples=[[1]])
    region_id: Id | None = Field(
        default=None, description="Staff of a region see every station below it (admins set it)"
    )


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "the old passphrase", "new_password": "a new long passphrase"}]
        }
    )

    current_password: str = Field(max_length=128)
    new_password: str = Field(min_length=8, max_length=128, examples=["a new long passphrase"])


class UserOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "username": "wang.organizer",
                    "role": "organizer",
                    "person_id": None,
                    "is_active": True,
                    "created_at": "2026-11-29T10:00:00+08:00",
                    "station_ids": [1],
                }
            ]
        },
    )

    id: int
    username: str | None
    role: Role
    person_id: int | None
    is_active: bool
    created_at: datetime
    region_id: int | None = None
    station_ids: list[int] = []
