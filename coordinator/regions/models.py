"""Region tables: the tree itself and its closure (every region with each of its ancestors)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class RegionLevel(StrEnum):
    province = "province"  # 省（自治区）
    city = "city"  # 市（州）
    county = "county"  # 县（市、区）
    township = "township"  # 乡镇/街道: stations sit under one


LEVELS: tuple[RegionLevel, ...] = tuple(RegionLevel)  # from the top down
LEVEL_LABELS = {
    RegionLevel.province: "省",
    RegionLevel.city: "市（州）",
    RegionLevel.county: "县（市、区）",
    RegionLevel.township: "乡镇（街道）",
}
# The level a region's parent must have (a province has none).
PARENT_LEVEL: dict[RegionLevel, RegionLevel | None] = {
    RegionLevel.province: None,
    RegionLevel.city: RegionLevel.province,
    RegionLevel.county: RegionLevel.city,
    RegionLevel.township: RegionLevel.county,
}


class Region(IdMixin, Base):
    """One administrative region. Regions are only added, never moved: the closure stays true."""

    __tablename__ = "regions"
    __table_args__ = (Index("ix_regions_parent_id_id", "parent_id", "id"),)

    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    level: Mapped[RegionLevel] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime]


class RegionAncestor(Base):
    """``ancestor_id`` is ``region_id`` itself (depth 0) or a region above it: "everything below
    a region" is one join, on SQLite and PostgreSQL alike, and so is a roll-up's set of scopes."""

    __tablename__ = "region_ancestors"
    __table_args__ = (Index("ix_region_ancestors_ancestor_id", "ancestor_id", "region_id"),)

    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)
    ancestor_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)
