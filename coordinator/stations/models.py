from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class Station(IdMixin, Base):
    """A village or community social-work station: the tenant every record belongs to."""

    __tablename__ = "stations"

    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    address: Mapped[str | None] = mapped_column(String(200))
    # The township (乡镇/街道) the station serves; staff of any region above it see it.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    created_at: Mapped[datetime]


class Organization(IdMixin, Base):
    """A community social organization (社区社会组织) that co-organizes a station's events."""

    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("station_id", "name"),)

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
