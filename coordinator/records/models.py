"""Tables of the volunteer service record (志愿服务记录): real-name identity, training,
commendations and evaluations, issued certificates and the audit of full-ID downloads."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class IdType(StrEnum):
    """Certificate types of MZ/T 061-2016 for a volunteer's real-name registration."""

    resident_id = "resident_id"  # 居民身份证
    hk_macao_permit = "hk_macao_permit"  # 港澳居民来往内地通行证
    taiwan_permit = "taiwan_permit"  # 台湾居民来往大陆通行证
    passport = "passport"  # 护照
    foreign_permanent_residence = "foreign_permanent_residence"  # 外国人永久居留身份证


class PersonIdentity(Base):
    """A person's real-name identity. The number is kept only encrypted (``coordinator.records.
    identity``); the masked form is stored beside it so lists and pages never need the key."""

    __tablename__ = "person_identities"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    id_type: Mapped[IdType] = mapped_column(String(30))
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_masked: Mapped[str] = mapped_column(String(20))
    # The number the national system (全国志愿服务信息系统) gave the volunteer, once registered there.
    volunteer_number: Mapped[str | None] = mapped_column(String(40))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]


class EntryKind(StrEnum):
    training = "training"  # 培训记录
    commendation = "commendation"  # 表彰奖励
    evaluation = "evaluation"  # 评价


class RecordEntry(IdMixin, Base):
    """A training, commendation or evaluation that staff add to a volunteer's record."""

    __tablename__ = "volunteer_record_entries"
    __table_args__ = (Index("ix_volunteer_record_entries_person_id_day", "person_id", "day"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    kind: Mapped[EntryKind] = mapped_column(String(20))
    day: Mapped[date]
    title: Mapped[str] = mapped_column(String(100))
    # Who trained, awarded or evaluated (an organization's or a body's name).
    issuer: Mapped[str | None] = mapped_column(String(100))
    content: Mapped[str | None] = mapped_column(Text)
    training_minutes: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[str | None] = mapped_column(String(20))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class Certificate(IdMixin, Base):
    """An issued 志愿服务记录证明 in the station's register. What it certifies is frozen at issue
    (name, masked ID, hours, activities, issuer), so reprinting it later prints the same."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_station_id_issued_at", "station_id", "issued_at"),)

    number: Mapped[str] = mapped_column(String(40), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    person_name: Mapped[str] = mapped_column(String(60))
    id_type: Mapped[str | None] = mapped_column(String(30))
    id_number_masked: Mapped[str | None] = mapped_column(String(20))
    volunteer_number: Mapped[str | None] = mapped_column(String(40))
    period_first: Mapped[date]
    period_last: Mapped[date]
    activities: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    # [{"date": "2026-11-05", "title": …, "place": …, "minutes": 60}], in date order.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    issuer_name: Mapped[str] = mapped_column(String(100))
    person_in_charge: Mapped[str] = mapped_column(String(60))
    handler: Mapped[str] = mapped_column(String(60))
    contact: Mapped[str] = mapped_column(String(40))
    # HMAC of the certified fields, printed in the QR code; the verification page compares it.
    check_code: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="SET NULL"))


class PersonalDataDownload(IdMixin, Base):
    """One download of a file holding full ID numbers (the national export): who, when, what."""

    __tablename__ = "personal_data_downloads"
    __table_args__ = (Index("ix_personal_data_downloads_station_id_at", "station_id", "at"),)

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    what: Mapped[str] = mapped_column(String(60))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    period_first: Mapped[date]
    period_last: Mapped[date]
    id_numbers: Mapped[int] = mapped_column(Integer)
    client_address: Mapped[str | None] = mapped_column(String(64))
