"""Shapes of the confirm-or-release routes, the at-risk list and the SMS reply callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConfirmationAnswer(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"answer": "release"}})

    answer: Literal["confirm", "release"] = Field(description="confirm: I will come; release: free my place")


class ConfirmationOut(BaseModel):
    """What the link shows: the activity, the place, and the answer so far."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "signup_id": 12,
                "event_id": 3,
                "event_title": "重阳节探访",
                "starts_at": "2026-12-06T09:00:00+08:00",
                "location": "营盘坡村委会",
                "role": "探访志愿者",
                "person_name": "杨秀英",
                "signup_status": "confirmed",
                "answer": None,
                "answered_at": None,
                "confirm_by": "2026-12-05T21:00:00+08:00",
                "can_answer": True,
            }
        }
    )

    signup_id: int
    event_id: int
    event_title: str
    starts_at: datetime
    location: str | None
    role: str
    person_name: str
    signup_status: str
    answer: str | None = Field(description="confirmed, released, or null while unanswered")
    answered_at: datetime | None
    confirm_by: datetime
    can_answer: bool


class AtRiskPersonOut(BaseModel):
    signup_id: int
    person_id: int
    name: str
    phone: str
    role: str
    confirmed_at: datetime | None
    no_shows: int = Field(description="Past events this person was confirmed for and did not attend")


class ReleasedPlaceOut(BaseModel):
    signup_id: int
    person_id: int
    name: str
    role: str
    released_at: datetime
    via: str = Field(description="link or sms_reply")


class AtRiskOut(BaseModel):
    """Confirmed people without an answer once the deadline has passed, likeliest no-shows first."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "event_id": 3,
                "confirm_by": "2026-12-05T21:00:00+08:00",
                "deadline_passed": True,
                "confirmed": 7,
                "awaiting": 1,
                "items": [
                    {
                        "signup_id": 15,
                        "person_id": 9,
                        "name": "吴国强",
                        "phone": "+8613812341234",
                        "role": "探访志愿者",
                        "confirmed_at": "2026-11-20T10:12:00+08:00",
                        "no_shows": 2,
                    }
                ],
                "released": [
                    {
                        "signup_id": 16,
                        "person_id": 11,
                        "name": "龙美",
                        "role": "探访志愿者",
                        "released_at": "2026-12-05T10:03:00+08:00",
                        "via": "sms_reply",
                    }
                ],
            }
        }
    )

    event_id: int
    confirm_by: datetime
    deadline_passed: bool
    confirmed: int
    awaiting: int
    items: list[AtRiskPersonOut]
    released: list[ReleasedPlaceOut]


class AliyunReplyAnswer(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"code": 0, "msg": "接收成功"}})

    code: int = 0
    msg: str = "接收成功"


class TencentReplyAnswer(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"result": 0, "errmsg": "OK"}})

    result: int = 0
    errmsg: str = "OK"


ALIYUN_REPLY_EXAMPLE: list[dict[str, Any]] = [
    {
        "phone_number": "13812341234",
        "send_time": "2026-12-05 10:03:00",
        "content": "0",
        "sign_name": "凯里社工站",
        "dest_code": "1234",
        "sequence_id": 1234567890,
    }
]
TENCENT_REPLY_EXAMPLE: dict[str, Any] = {
    "extend": "",
    "mobile": "13812341234",
    "nationcode": "86",
    "sign": "凯里社工站",
    "text": "1",
    "time": 1796436180,
}
