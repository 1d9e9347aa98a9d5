"""Request and response shapes of the certificate register."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from coordinator.fields import Day, Id, Line

PersonName = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Contact = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Reason = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CertificateIn(BaseModel):
    """Issue a certificate of a person's hours in a period (all their hours when left out)."""

    model_config = ConfigDict(populate_by_name=True)

    person_id: Id
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None
    person_in_charge: PersonName = Field(description="负责人 of the issuing station", examples=["王建国"])
    handler: PersonName = Field(description="经办人 who issues it", examples=["李娟"])
    contact: Contact = Field(description="联系电话 for questions about it", examples=["0855-1234567"])


class RevokeIn(BaseModel):
    reason: Reason = Field(examples=["时长录入有误"])


class ReissueIn(BaseModel):
    """Revoke and issue anew for the same person and period; issuer fields default to the old ones."""

    reason: Reason = Field(examples=["补录了一次活动的时长"])
    person_in_charge: PersonName | None = None
    handler: PersonName | None = None
    contact: Contact | None = None


_EXAMPLE: JsonDict = {
    "id": 12, "number": "YPP-2026-7KQ4M2PX", "station_id": 1, "person_id": 7, "person_name": "杨秀英",
    "id_type": "resident_id", "id_number_masked": "**************002X", "volunteer_number": "52260100012345",
    "from": "2026-01-01", "to": "2026-11-30", "activities": 14, "hours": 31.5,
    "issuer_name": "营盘坡社区服务站",
    "person_in_charge": "王建国", "handler": "李娟", "contact": "0855-1234567", "issued_by": 3,
    "issued_at": "2026-12-04T10:30:00+08:00", "revoked_at": None, "revoke_reason": None, "replaces_id": None,
    "verify_url": "https://example.org/web/verify/certificates/YPP-2026-7KQ4M2PX?h=31.50&c=51f3bfc5028793fa8203",
}  # fmt: skip


class CertificateOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [_EXAMPLE]})

    id: int
    number: str
    station_id: int
    person_id: int
    person_name: str
    id_type: str | None
    id_number_masked: str | None
    volunteer_number: str | None
    from_: date = Field(alias="from")
    to: date
    activities: int
    hours: float
    issuer_name: str
    person_in_charge: str
    handler: str
    contact: str
    issued_by: int | None
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    replaces_id: int | None
    verify_url: str
