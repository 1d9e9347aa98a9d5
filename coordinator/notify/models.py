from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base


class ChannelToken(Base):
    """A provider access token shared by every process (WeChat's lasts two hours).

    One row per provider account; it is read without a lock while valid and refreshed under a
    row lock, so many workers fetch a new token once instead of invalidating each other's."""

    __tablename__ = "channel_tokens"

    provider: Mapped[str] = mapped_column(String(80), primary_key=True)
    token: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]
