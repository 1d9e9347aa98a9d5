"""What a role's count change takes and answers (``PATCH /events/{id}/roles/{role_id}``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RoleCountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"count": 3, "force": False}]})

    count: int = Field(ge=0, le=10_000)
    force: bool = Field(
        default=False,
        description="Allow a count below the confirmed people: the latest confirmed move to the waitlist",
    )


class RoleCountOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 88,
                    "event_id": 41,
                    "name": "党员志愿者",
                    "count": 6,
                    "confirmed_count": 6,
                    "promoted_signup_ids": [305, 306],
                    "demoted_signup_ids": [],
                }
            ]
        }
    )

    id: int
    event_id: int
    name: str
    count: int
    confirmed_count: int
    promoted_signup_ids: list[int]
    demoted_signup_ids: list[int]
