from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class Role(StrEnum):
    admin = "admin"  # all stations (the county bureau and the operators)
    station_head = "station_head"  # their stations, including residents' personal data
    organizer = "organizer"  # their stations; residents' phones and ID numbers masked
    volunteer = "volunteer"  # themselves only; logs in by phone OTP


class User(IdMixin, Base):
    """Someone who logs in. Staff log in with a password; a volunteer is tied to a person and
    logs in by phone OTP, so ``username`` and ``password_hash`` are optional."""

    __tablename__ = "users"

    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(20))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Staff of a region (a county's civil-affairs bureau …) see every station below it, besides
    # the stations of ``user_stations``.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime]
    # Carried in every bearer token and session cookie (claim ``ver``) and compared on every
    # request: logging out or changing the password bumps it, which ends every session at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UserStation(Base):
    """The stations a station head, organizer or volunteer belongs to (admins need none)."""

    __tablename__ = "user_stations"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)


class OtpCode(IdMixin, Base):
    """A login code sent to a phone. Only an HMAC of the code is kept."""

    __tablename__ = "otp_codes"
    __table_args__ = (
        Index("ix_otp_codes_phone_created", "phone", "created_at"),
        Index("ix_otp_codes_ip_created", "request_ip", "created_at"),
    )

    phone: Mapped[str] = mapped_column(String(20))  # E.164
    code_hash: Mapped[str] = mapped_column(String(64))
    request_ip: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]


class LoginAttempt(IdMixin, Base):
    """A password login, counted as failed until it succeeds (then it is deleted): the limits
    per username and per client address count these rows over a window."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username_key", "attempted_at"),
        Index("ix_login_attempts_address_at", "client_address", "attempted_at"),
    )

    # A hash of the name typed, not the name: a password typed into the username field is not kept.
    username_key: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]
