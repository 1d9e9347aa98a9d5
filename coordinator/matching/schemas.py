"""Request and response bodies of the matching API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from coordinator.fields import Id, Moment

Weight = Annotated[float, Field(ge=0, le=100)]

_REASON: JsonDict = {
    "code": "language",
    "zh": "会说苗语，与服务对象语言相同",
    "en": "Speaks Miao (Hmong), the residents' language",
}
_PROPOSAL: JsonDict = {"person_id": 12, "name": "杨秀英", "role_id": 31, "score": 15.5, "reasons": [_REASON]}


class ReasonOut(BaseModel):
    code: str
    zh: str
    en: str


class ProposalOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PROPOSAL]})

    person_id: int
    name: str
    role_id: int
    score: float = Field(description="The pair's share of the objective (10 for the place, plus preferences)")
    reasons: list[ReasonOut]


class RoleMatchOut(BaseModel):
    role_id: int
    name: str
    open_places: int = Field(description="count − confirmed − invited, before these proposals")
    unfilled: int = Field(description="Places still open if every proposal is applied")
    proposals: list[ProposalOut]


class EventMatchOut(BaseModel):
    event_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    roles: list[RoleMatchOut]


class MatchOut(BaseModel):
    """Proposals only: nothing is stored until they are applied."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "event_id": 7,
                            "title": "入户走访·营盘坡",
                            "starts_at": "2026-12-05T09:00:00+08:00",
                            "ends_at": "2026-12-05T11:00:00+08:00",
                            "roles": [
                                {
                                    "role_id": 31,
                                    "name": "走访志愿者",
                                    "open_places": 2,
                                    "unfilled": 1,
                                    "proposals": [_PROPOSAL],
                                }
                            ],
                        }
                    ],
                    "objective": 15.5,
                    "optimal": True,
                }
            ]
        }
    )

    events: list[EventMatchOut]
    objective: float = Field(description="The sum the solver maximized (scores plus the Party-member goal)")
    optimal: bool = Field(description="The objective equals the proven upper bound")


class StationMatchIn(BaseModel):
    """Published events of the station starting in [from, to) and not yet started."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [{"from": "2026-11-30T00:00:00+08:00", "to": "2026-12-28T00:00:00+08:00"}]
        },
    )

    start: Moment = Field(alias="from")
    end: Moment = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> StationMatchIn:
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        return self


class ApplyMode(StrEnum):
    invite = "invite"
    confirm = "confirm"


class ChosenProposal(BaseModel):
    person_id: Id
    role_id: Id


class ApplyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"proposals": [{"person_id": 12, "role_id": 31}], "mode": "invite"}]}
    )

    proposals: list[ChosenProposal] = Field(min_length=1, max_length=2000)
    mode: ApplyMode


class ApplyOutcome(BaseModel):
    person_id: int
    role_id: int
    event_id: int
    applied: bool
    status: str | None = Field(description="The sign-up's status when applied: invited or confirmed")
    signup_id: int | None
    code: str | None = Field(description="Why it was not applied (a rule's code), when not")
    message: str | None
    message_en: str | None


class ApplyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "person_id": 12,
                            "role_id": 31,
                            "event_id": 7,
                            "applied": True,
                            "status": "invited",
                            "signup_id": 88,
                            "code": None,
                            "message": None,
                            "message_en": None,
                        },
                        {
                            "person_id": 13,
                            "role_id": 31,
                            "event_id": 7,
                            "applied": False,
                            "status": None,
                            "signup_id": None,
                            "code": "busy",
                            "message": "与已确认的其他活动时间冲突",
                            "message_en": "Busy with another confirmed event then",
                        },
                    ],
                    "applied": 1,
                    "skipped": 1,
                }
            ]
        }
    )

    results: list[ApplyOutcome]
    applied: int
    skipped: int


_WEIGHTS_EXAMPLE: dict[str, Any] = {
    "language": 3.0,
    "extra_skills": 1.5,
    "fairness_recent": 1.0,
    "fairness_load": 2.0,
    "party_quota": 4.0,
    "reliability": 2.0,
    "continuity": 3.0,
    "party_member_share": 0.5,
}


class MatchingWeightsIn(BaseModel):
    """How much each preference counts (a place filled counts 10; 0 turns a preference off)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_WEIGHTS_EXAMPLE]})

    language: Weight
    extra_skills: Weight
    fairness_recent: Weight
    fairness_load: Weight
    party_quota: Weight
    reliability: Weight
    continuity: Weight
    party_member_share: float = Field(
        ge=0, le=1, description="Share of a Party-building drive's places that Party members should fill"
    )


class MatchingWeightsOut(MatchingWeightsIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"station_id": 1, "filled_place": 10.0, "is_default": False, **_WEIGHTS_EXAMPLE}]
        }
    )

    station_id: int
    filled_place: float
    is_default: bool = Field(description="No weights stored for the station: the defaults apply")
