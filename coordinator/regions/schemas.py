"""Request and answer shapes of the regions API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from coordinator.fields import Id, Line
from coordinator.regions.models import RegionLevel


class RegionCreate(BaseModel):
    name: Line = Field(min_length=1, max_length=100, examples=["凯里市"])
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", examples=["gz-qdn-kaili"])
    level: RegionLevel = Field(examples=["county"])
    parent_id: Id | None = Field(default=None, description="Leave out for a province", examples=[2])


class RegionOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"id": 3, "parent_id": 2, "level": "county", "name": "凯里市", "code": "gz-qdn-kaili",
                 "created_at": "2026-12-04T10:00:00+08:00"}
            ]
        },
    )  # fmt: skip

    id: int
    parent_id: int | None
    level: RegionLevel
    name: str
    code: str
    created_at: datetime


class StationRegionIn(BaseModel):
    region_id: Id | None = Field(
        description="A township; null takes the station out of every region", examples=[12]
    )


class QualificationCount(BaseModel):
    qualification: str
    label: str
    social_workers: int


class TownshipCoverage(BaseModel):
    id: int
    name: str
    code: str
    stations: int


class CoverageOut(BaseModel):
    """Which townships below a region have a station, and its qualified social workers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"region_id": 3, "townships": 2, "townships_with_station": 1, "stations": 1,
                 "social_workers": 4,
                 "by_qualification": [{"qualification": "social_worker", "label": "社会工作师",
                                       "social_workers": 2}],
                 "items": [{"id": 5, "name": "大十字街道", "code": "kl-dsz", "stations": 1},
                           {"id": 6, "name": "西门街道", "code": "kl-xm", "stations": 0}]}
            ]
        }
    )  # fmt: skip

    region_id: int
    townships: int
    townships_with_station: int
    stations: int
    social_workers: int
    by_qualification: list[QualificationCount]
    items: list[TownshipCoverage]
