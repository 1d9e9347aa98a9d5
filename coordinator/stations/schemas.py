from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coordinator.fields import Line


class StationCreate(BaseModel):
    name: Line = Field(min_length=1, max_length=100, examples=["营盘坡社区社工站"])
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", examples=["kl-yingpanpo"])
    timezone: str = Field(default="Asia/Shanghai", examples=["Asia/Shanghai"])
    address: Line | None = Field(default=None, max_length=200, examples=["贵州省凯里市大十字街道营盘坡社区"])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value


class StationOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "营盘坡社区社工站",
                    "code": "kl-yingpanpo",
                    "timezone": "Asia/Shanghai",
                    "address": "贵州省凯里市大十字街道营盘坡社区",
                    "region_id": 12,
                    "created_at": "2026-11-29T10:00:00+08:00",
                }
            ]
        },
    )

    id: int
    name: str
    code: str
    timezone: str
    address: str | None
    region_id: int | None = None
    created_at: datetime


class OrganizationCreate(BaseModel):
    name: Line = Field(min_length=1, max_length=100, examples=["营盘坡芦笙队"])
    kind: Line | None = Field(default=None, max_length=40, examples=["heritage_team"])


class OrganizationOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "station_id": 1,
                    "name": "营盘坡芦笙队",
                    "kind": "heritage_team",
                    "created_at": "2026-11-29T10:00:00+08:00",
                }
            ]
        },
    )

    id: int
    station_id: int
    name: str
    kind: str | None
    created_at: datetime
