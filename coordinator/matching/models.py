"""A station's own weights of the matching objective (absent row: the engine's defaults)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base
from coordinator.matching.model import Weights

# The share of a Party-building drive's places that Party members should fill, unless a station says.
DEFAULT_PARTY_MEMBER_SHARE = 0.5


class StationMatchingWeights(Base):
    """How much each preference counts at one station; ``filled_place`` is not tunable, so filling
    a place always outweighs who fills it."""

    __tablename__ = "station_matching_weights"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[float] = mapped_column(Float)
    extra_skills: Mapped[float] = mapped_column(Float)
    fairness_recent: Mapped[float] = mapped_column(Float)
    fairness_load: Mapped[float] = mapped_column(Float)
    party_quota: Mapped[float] = mapped_column(Float)
    reliability: Mapped[float] = mapped_column(Float)
    continuity: Mapped[float] = mapped_column(Float)
    party_member_share: Mapped[float] = mapped_column(Float, default=DEFAULT_PARTY_MEMBER_SHARE)
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def weights(self) -> Weights:
        return Weights(
            language=self.language,
            extra_skills=self.extra_skills,
            fairness_recent=self.fairness_recent,
            fairness_load=self.fairness_load,
            party_quota=self.party_quota,
            reliability=self.reliability,
            continuity=self.continuity,
        )
