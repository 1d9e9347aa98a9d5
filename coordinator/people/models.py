from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, IdMixin

Channel = Literal["wechat", "sms", "email"]
DEFAULT_CHANNEL_ORDER: tuple[Channel, ...] = ("wechat", "sms", "email")


class Qualification(StrEnum):
    """The national social-work qualifications (社会工作者职业资格)."""

    assistant_social_worker = "assistant_social_worker"  # 助理社会工作师
    social_worker = "social_worker"  # 社会工作师
    senior_social_worker = "senior_social_worker"  # 高级社会工作师


QUALIFICATION_LABELS = {
    Qualification.assistant_social_worker: "助理社会工作师",
    Qualification.social_worker: "社会工作师",
    Qualification.senior_social_worker: "高级社会工作师",
}


def _default_channel_order() -> list[str]:
    return list(DEFAULT_CHANNEL_ORDER)


def _same_as_created(context: Any) -> datetime:
    """A new row's ``updated_at`` is its ``created_at`` (the injected clock's time, not the database's)."""
    created: datetime = context.get_current_parameters()["created_at"]
    return created


class Person(IdMixin, Base):
    """Someone who gives time: volunteer, Party member, social worker."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("station_id", "phone"),
        # Station lists page by id within one station.
        Index("ix_people_station_id_id", "station_id", "id"),
        # WeChat sign-in finds the person by openid.
        Index("ix_people_wechat_openid", "wechat_openid"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    is_party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    party_branch: Mapped[str | None] = mapped_column(String(100))
    is_social_worker: Mapped[bool] = mapped_column(Boolean, default=False)
    # The national social-work qualification held (``Qualification``), if any.
    qualification: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    # Bound by the volunteer through WeChat sign-in; personal data: staff only see whether it is set.
    wechat_openid: Mapped[str | None] = mapped_column(String(64))
    # Why WeChat last refused a message to them: "not_following" (43004) or "no_subscription"
    # (43101); cleared when they bind again or accept a subscription.
    wechat_refusal: Mapped[str | None] = mapped_column(String(20))
    # Weekly windows: [{"weekday": 0-6 (Monday = 0), "start": "HH:MM", "end": "HH:MM"}].
    availability: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_wechat: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_order: Mapped[list[str]] = mapped_column(JSON, default=_default_channel_order)
    # Local times of the station's zone; a window that wraps past midnight (22:00–08:00) is normal.
    quiet_hours_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_hours_end: Mapped[str] = mapped_column(String(5), default="08:00")
    max_events_per_month: Mapped[int | None] = mapped_column(Integer)
    # Bumped to revoke every calendar-feed token issued for this person.
    calendar_token_version: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped to revoke the person's own check-in QR code (a lost phone, a shared screenshot).
    qr_token_version: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=_same_as_created)

    terms: Mapped[list[PersonTerm]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="(PersonTerm.kind, PersonTerm.code)"
    )

    def codes(self, kind: str) -> list[str]:
        return sorted(t.code for t in self.terms if t.kind == kind)


class PersonTerm(Base):
    """A skill or language of a person (``kind`` is ``skill`` or ``language``)."""

    __tablename__ = "person_terms"
    # Finding the people with a given skill or language.
    __table_args__ = (Index("ix_person_terms_kind_code", "kind", "code", "person_id"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


class VocabularyTerm(IdMixin, Base):
    """A station's own skill or language, next to the built-in ones."""

    __tablename__ = "vocabulary_terms"
    __table_args__ = (UniqueConstraint("station_id", "kind", "code"),)

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str] = mapped_column(String(60))
    label_en: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Resident(IdMixin, Base):
    """Someone on the station's support ledger (台账). Phone and ID number are personal data."""

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("station_id", "id_number"),
        Index("ix_residents_station_id_id", "station_id", "id"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    # Month and day without a year are common: many elderly residents only know those.
    birth_year: Mapped[int | None] = mapped_column(Integer)
    birth_month: Mapped[int | None] = mapped_column(Integer)
    birth_day: Mapped[int | None] = mapped_column(Integer)
    birthday_is_lunar: Mapped[bool] = mapped_column(Boolean, default=False)
    birthday_leap_month: Mapped[bool] = mapped_column(Boolean, default=False)
    gender: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str | None] = mapped_column(String(40))
    household: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    id_number: Mapped[str | None] = mapped_column(String(18))
    notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=_same_as_created)

    category_rows: Mapped[list[ResidentCategoryRow]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ResidentCategoryRow.category"
    )

    @property
    def categories(self) -> list[str]:
        return sorted(row.category for row in self.category_rows)


class ResidentCategoryRow(Base):
    """One support category of a resident (a resident has at least one)."""

    __tablename__ = "resident_categories"
    __table_args__ = (Index("ix_resident_categories_category", "category", "resident_id"),)

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
