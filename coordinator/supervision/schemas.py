"""Request and answer shapes of the supervision API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coordinator.events.schemas import Code, Description
from coordinator.fields import Day, Id, Line
from coordinator.supervision.models import FindingStatus

Note = Annotated[Line, StringConstraints(strip_whitespace=True, max_length=500)]


class FindingIn(BaseModel):
    """One check-list item: in order (``met``), or not, with the follow-up due by a date."""

    item: Code
    met: bool
    note: Note | None = None
    follow_up: Note | None = None
    due_on: Day | None = None


class VisitCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"station_id": 1, "visited_on": "2026-12-03", "supervisor": "马督导",
                 "findings": [{"item": "ledger_kept", "met": True},
                              {"item": "records_complete", "met": False, "note": "11月活动缺签到表",
                               "follow_up": "补齐签到表并归档", "due_on": "2026-12-20"}]}
            ]
        }
    )  # fmt: skip

    station_id: Id
    visited_on: Day
    supervisor: Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    notes: Description | None = None
    findings: list[FindingIn] = Field(min_length=1, max_length=50)


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    visit_id: int
    item: str = Field(examples=["records_complete"])
    label: str = ""
    status: FindingStatus
    note: str | None
    follow_up: str | None
    due_on: date | None
    closed_at: datetime | None
    closing_note: str | None


class VisitOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": 1, "station_id": 1, "visited_on": "2026-12-03", "supervisor": "马督导", "notes": None,
                 "created_at": "2026-12-03T16:00:00+08:00",
                 "findings": [{"id": 2, "visit_id": 1, "item": "records_complete", "label": "档案资料齐全",
                               "status": "open", "note": "11月活动缺签到表", "follow_up": "补齐签到表并归档",
                               "due_on": "2026-12-20", "closed_at": None, "closing_note": None}]}
            ]
        }
    )  # fmt: skip

    id: int
    station_id: int
    visited_on: date
    supervisor: str
    notes: str | None
    created_at: datetime
    findings: list[FindingOut]


class FindingClose(BaseModel):
    note: Note | None = Field(default=None, description="What was done", examples=["已补齐签到表"])


class SharedCasesIn(BaseModel):
    cases: int = Field(
        ge=0, le=10_000, description="Cases shared at the exchange session or showcase", examples=[12]
    )


class SharedCasesOut(BaseModel):
    event_id: int
    cases: int = Field(examples=[12])


class SupervisionFigures(BaseModel):
    region_id: int | None
    station_id: int | None
    name: str
    visits: int
    stations_visited: int
    items_met: int
    findings_open: int  # of the period's visits, as they stand now
    findings_overdue: int  # open past their due date
    findings_closed: int
    findings_closed_in_period: int  # follow-ups closed in the period, whenever they were found
    findings_open_at_end: int  # found by the period's end and not closed by then
    sharing_events: int  # exchange sessions and case showcases held
    shared_cases: int


class SupervisionStatsOut(BaseModel):
    year: int = Field(examples=[2026])
    rows: list[SupervisionFigures]
    totals: SupervisionFigures
