"""Response shapes of the notification API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class NotificationOut(BaseModel):
    """One message to one person; the recipient is masked and the text is not shown."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 42,
                "station_id": 1,
                "person_id": 7,
                "event_id": 3,
                "reason": "reminder",
                "offset": "P1D",
                "channel": "sms",
                "status": "sent",
                "recipient": "138****1234",
                "due_at": "2026-11-30T02:00:00Z",
                "deadline": "2026-12-01T02:00:00Z",
                "attempts": 1,
                "next_attempt_at": "2026-11-30T02:00:00Z",
                "sent_at": "2026-11-30T02:00:01Z",
                "delivered_at": None,
                "provider": "sms_aliyun",
                "provider_message_id": "900619746936498440^0",
                "last_error": None,
            }
        }
    )

    id: int
    station_id: int
    person_id: int
    event_id: int | None
    reason: str
    offset: str
    channel: str
    status: str
    recipient: str
    due_at: datetime
    deadline: datetime | None
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    provider: str | None
    provider_message_id: str | None
    last_error: str | None


class AliyunReceiptAnswer(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"code": 0, "msg": "成功"}})

    code: int = 0
    msg: str = "成功"


class TencentReceiptAnswer(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"result": 0, "errmsg": "OK"}})

    result: int = 0
    errmsg: str = "OK"


ALIYUN_RECEIPT_EXAMPLE: list[dict[str, Any]] = [
    {
        "phone_number": "13812341234",
        "send_time": "2026-11-30 10:00:00",
        "report_time": "2026-11-30 10:00:05",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "900619746936498440^0",
        "out_id": "42",
    }
]
TENCENT_RECEIPT_EXAMPLE: list[dict[str, Any]] = [
    {
        "user_receive_time": "2026-11-30 10:00:05",
        "nationcode": "86",
        "mobile": "13812341234",
        "report_status": "SUCCESS",
        "errmsg": "DELIVRD",
        "description": "用户短信送达成功",
        "sid": "2019:538884*********",
    }
]
