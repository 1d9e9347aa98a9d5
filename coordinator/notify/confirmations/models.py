"""Tables of confirm-or-release: a volunteer's answer to the day-before request, and SMS replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, IdMixin


class PlaceAnswer(StrEnum):
    confirmed = "confirmed"  # will come: off the at-risk list
    released = "released"  # will not come: the place went back to the role (and its waitlist)


class AnswerVia(StrEnum):
    link = "link"  # the signed link in the reminder (SMS, WeChat, email)
    sms_reply = "sms_reply"  # a reply keyword to the reminder SMS


class PlaceConfirmation(IdMixin, Base):
    """The answer for one confirmed sign-up. One row per sign-up (the unique key): a repeated
    answer finds it; a release after a confirmation changes it (plans change), never the reverse."""

    __tablename__ = "place_confirmations"
    __table_args__ = (Index("ix_place_confirmations_event_id_answer", "event_id", "answer"),)

    signup_id: Mapped[int] = mapped_column(ForeignKey("signups.id", ondelete="CASCADE"), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    answer: Mapped[PlaceAnswer] = mapped_column(String(10))
    via: Mapped[AnswerVia] = mapped_column(String(10))
    answered_at: Mapped[datetime]


class ReplyOutcome(StrEnum):
    confirmed = "confirmed"
    released = "released"
    no_pending = "no_pending"  # nothing of this phone waits for an answer
    not_understood = "not_understood"  # not one of the keywords
    refused = "refused"  # the answer was not possible any more (the event started, …)


class SmsReply(IdMixin, Base):
    """An SMS a volunteer sent back. Providers push replies again until answered, so each is kept
    once under (provider, reply key): a repeated "0" must not release the next event's place."""

    __tablename__ = "sms_replies"
    __table_args__ = (UniqueConstraint("provider", "reply_key"),)

    provider: Mapped[str] = mapped_column(String(20))
    # Aliyun: its sequence_id; Tencent (which has none): phone, time and a hash of the text.
    reply_key: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    text: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[ReplyOutcome] = mapped_column(String(16))
    signup_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime]
