"""Request and response shapes of people, residents and vocabularies.

Field types are declared once (the aliases below) and shared by the create and update shapes.
Phones, ID numbers, skills, languages, categories and birthdays arrive as plain text and are
checked by ``coordinator.people.field_rules``, which the importer uses too."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from coordinator.fields import Id, Line, Lines
from coordinator.people.models import DEFAULT_CHANNEL_ORDER, Channel, Qualification
from coordinator.people.vocabulary import TermKind

Name = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
PhoneText = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
ShortText = Annotated[Line, StringConstraints(strip_whitespace=True, max_length=100)]
LongText = Annotated[Line, StringConstraints(strip_whitespace=True, max_length=200)]
OpenId = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Code = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
HourMinute = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["22:00"])]
ChannelOrder = Annotated[list[Channel], Field(min_length=1, max_length=3)]
MonthlyLimit = Annotated[int, Field(ge=0, le=100)]
Gender = Literal["male", "female"]


class AvailabilityWindow(BaseModel):
    """A weekly window in the station's local time; Monday is weekday 0."""

    weekday: int = Field(ge=0, le=6)
    start: HourMinute
    end: HourMinute

    @model_validator(mode="after")
    def _starts_before_end(self) -> AvailabilityWindow:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


def _distinct_channels(channels: list[Channel] | None) -> list[Channel] | None:
    if channels is not None and len(set(channels)) != len(channels):
        raise ValueError("each channel may appear once")
    return channels


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("may not be null")
    return value


class PersonCreate(BaseModel):
    station_id: Id
    name: Name = Field(examples=["杨秀英"])
    phone: PhoneText = Field(examples=["13812341234"])
    is_party_member: bool = False
    party_branch: ShortText | None = Field(default=None, examples=["营盘坡社区党支部"])
    is_social_worker: bool = False
    qualification: Qualification | None = Field(default=None, examples=["assistant_social_worker"])
    skills: list[Code] = Field(default_factory=list, examples=[["first_aid", "lusheng"]])
    languages: list[Code] = Field(default_factory=list, examples=[["mandarin", "miao"]])
    email: EmailStr | None = None
    wechat_openid: OpenId | None = None
    max_events_per_month: MonthlyLimit | None = None
    availability: list[AvailabilityWindow] = Field(default_factory=list, max_length=50)
    consent_sms: bool = True
    consent_wechat: bool = False
    consent_email: bool = False
    channel_order: ChannelOrder = Field(default_factory=lambda: list(DEFAULT_CHANNEL_ORDER))
    quiet_hours_start: HourMinute = "22:00"
    quiet_hours_end: HourMinute = "08:00"

    _channels = field_validator("channel_order")(_distinct_channels)


class PersonUpdate(BaseModel):
    """Only the fields sent are changed; ``null`` clears the optional ones."""

    name: Name | None = None
    phone: PhoneText | None = None
    is_party_member: bool | None = None
    party_branch: ShortText | None = None
    is_social_worker: bool | None = None
    qualification: Qualification | None = None
    skills: list[Code] | None = None
    languages: list[Code] | None = None
    email: EmailStr | None = None
    wechat_openid: OpenId | None = None
    max_events_per_month: MonthlyLimit | None = None
    availability: list[AvailabilityWindow] | None = Field(default=None, max_length=50)
    consent_sms: bool | None = None
    consent_wechat: bool | None = None
    consent_email: bool | None = None
    channel_order: ChannelOrder | None = None
    quiet_hours_start: HourMinute | None = None
    quiet_hours_end: HourMinute | None = None
    is_active: bool | None = None

    _channels = field_validator("channel_order")(_distinct_channels)
    _required = field_validator(
        "name",
        "phone",
        "is_party_member",
        "is_social_worker",
        "skills",
        "languages",
        "availability",
        "consent_sms",
        "consent_wechat",
        "consent_email",
        "channel_order",
        "quiet_hours_start",
        "quiet_hours_end",
        "is_active",
    )(_refuse_null)


class PersonOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "station_id": 1,
                    "name": "杨阿妹",
                    "phone": "+8613812341234",
                    "is_party_member": True,
                    "party_branch": "营盘坡社区党支部",
                    "is_social_worker": False,
                    "qualification": None,
                    "skills": ["childcare", "lusheng"],
                    "languages": ["mandarin", "miao"],
                    "email": None,
                    "wechat_bound": True,
                    "wechat_refusal": None,
                    "max_events_per_month": 4,
                    "availability": [{"weekday": 5, "start": "09:00", "end": "17:00"}],
                    "consent_sms": True,
                    "consent_wechat": True,
                    "consent_email": False,
                    "channel_order": ["wechat", "sms", "email"],
                    "quiet_hours_start": "22:00",
                    "quiet_hours_end": "08:00",
                    "is_active": True,
                    "created_at": "2026-11-29T10:00:00+08:00",
                    "updated_at": "2026-11-29T10:00:00+08:00",
                }
            ]
        }
    )

    id: int
    station_id: int
    name: str
    phone: str
    is_party_member: bool
    party_branch: str | None
    is_social_worker: bool
    qualification: Qualification | None
    skills: list[str]
    languages: list[str]
    email: str | None
    # Whether the person bound WeChat; the openid itself is personal data and never shown.
    wechat_bound: bool
    # Why WeChat last refused a message: "not_following" or "no_subscription".
    wechat_refusal: str | None
    max_events_per_month: int | None
    availability: list[AvailabilityWindow]
    consent_sms: bool
    consent_wechat: bool
    consent_email: bool
    channel_order: list[str]
    quiet_hours_start: str
    quiet_hours_end: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ResidentCreate(BaseModel):
    station_id: Id
    name: Name = Field(examples=["吴老奶"])
    categories: list[Code] = Field(examples=[["empty_nest_elderly", "low_income"]])
    birthday: Code | None = Field(default=None, description="YYYY-MM-DD or MM-DD", examples=["1948-08-15"])
    birthday_is_lunar: bool = False
    birthday_leap_month: bool = False
    gender: Gender | None = None
    language: Code | None = Field(default=None, examples=["miao"])
    household: ShortText | None = Field(default=None, examples=["户主：吴老奶"])
    address: LongText | None = None
    phone: PhoneText | None = None
    id_number: Code | None = None
    notes: Annotated[Lines, StringConstraints(max_length=2000)] | None = None


class ResidentUpdate(BaseModel):
    """Only the fields sent are changed; ``null`` clears the optional ones."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"categories": ["empty_nest_elderly"], "phone": "13812341234"}]}
    )

    name: Name | None = None
    categories: list[Code] | None = None
    birthday: Code | None = None
    birthday_is_lunar: bool | None = None
    birthday_leap_month: bool | None = None
    gender: Gender | None = None
    language: Code | None = None
    household: ShortText | None = None
    address: LongText | None = None
    phone: PhoneText | None = None
    id_number: Code | None = None
    notes: Annotated[Lines, StringConstraints(max_length=2000)] | None = None
    is_active: bool | None = None

    _required = field_validator(
        "name", "categories", "birthday_is_lunar", "birthday_leap_month", "is_active"
    )(_refuse_null)


class ResidentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 31,
                    "station_id": 1,
                    "name": "吴老奶",
                    "categories": ["empty_nest_elderly", "low_income"],
                    "birthday": None,
                    "age": 78,
                    "birthday_is_lunar": True,
                    "birthday_leap_month": False,
                    "gender": "female",
                    "language": "miao",
                    "household": "户主：吴老奶",
                    "address": "营盘坡社区3组",
                    "phone": "138****1234",
                    "id_number": "**************0021",
                    "notes": None,
                    "is_active": True,
                    "personal_data_masked": True,
                    "created_at": "2026-11-29T10:00:00+08:00",
                    "updated_at": "2026-11-29T10:00:00+08:00",
                }
            ]
        }
    )

    id: int
    station_id: int
    name: str
    categories: list[str]
    # Left out (null) for callers who may not see personal data: they get the age.
    birthday: str | None
    age: int | None
    birthday_is_lunar: bool
    birthday_leap_month: bool
    gender: str | None
    language: str | None
    household: str | None
    address: str | None
    phone: str | None
    id_number: str | None
    notes: str | None
    is_active: bool
    # True when phone and ID number are shown masked and the birthday left out for this caller.
    personal_data_masked: bool
    created_at: datetime
    updated_at: datetime


class TermCreate(BaseModel):
    station_id: Id
    kind: TermKind
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", examples=["bamboo_weaving"])]
    label_zh: Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)] = Field(
        examples=["竹编"]
    )
    label_en: Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        examples=["Bamboo weaving"]
    )


class TermOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"code": "bamboo_weaving", "label_zh": "竹编", "label_en": "Bamboo weaving", "builtin": False}
            ]
        },
    )

    code: str
    label_zh: str
    label_en: str
    builtin: bool


class VocabularyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "skills": [
                        {
                            "code": "childcare",
                            "label_zh": "儿童看护",
                            "label_en": "Childcare",
                            "builtin": True,
                        }
                    ],
                    "languages": [
                        {"code": "miao", "label_zh": "苗语", "label_en": "Miao (Hmong)", "builtin": True}
                    ],
                    "resident_categories": [
                        {
                            "code": "left_behind_child",
                            "label_zh": "留守儿童",
                            "label_en": "Left-behind child",
                            "builtin": True,
                        }
                    ],
                }
            ]
        }
    )

    skills: list[TermOut]
    languages: list[TermOut]
    resident_categories: list[TermOut]


class ImportRowError(BaseModel):
    row: int
    field: str | None
    code: str
    message: str
    message_en: str


class ImportResult(BaseModel):
    """Per-row errors all together; with any error nothing is stored (unless a partial import was asked)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": 0,
                    "updated": 0,
                    "errors": [
                        {
                            "row": 7,
                            "field": "phone",
                            "code": "invalid_phone",
                            "message": "手机号无效：1381234",
                            "message_en": "Invalid phone number: 1381234",
                        }
                    ],
                }
            ]
        }
    )

    created: int
    updated: int
    errors: list[ImportRowError]
