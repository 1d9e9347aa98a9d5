from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class Person(IdMixin, Base):
    """Someone who gives time: volunteer, Party member, social worker."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("station_id", "phone"),)

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    created_at: Mapped[datetime]
