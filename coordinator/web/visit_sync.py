"""Home visits recorded without signal: the record forms keep each visit in the browser
(``outbox.js``, the door page's store) and send them here once the network is back."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from coordinator.db import transaction
from coordinator.errors import CoordinatorError
from coordinator.visits.records import record_visit
from coordinator.visits.schemas import VisitIn
from coordinator.web.context import StaffDep, Viewer, clock_of, sessionmaker_of
from coordinator.web.door_pages import require_form_token, with_form_token

router = APIRouter(include_in_schema=False)

CHUNK_LIMIT = 50


class VisitBatchIn(BaseModel):
    # Each record is checked on its own, so that one bad record is refused with its reason while
    # the others are stored.
    records: list[dict[str, Any]] = Field(max_length=CHUNK_LIMIT)


class VisitResult(BaseModel):
    client_id: str
    outcome: Literal["applied", "replayed", "rejected"]
    record_id: int | None = None
    message: str | None = None
    message_en: str | None = None


class VisitBatchOut(BaseModel):
    results: list[VisitResult]


@router.get("/web/visits/token")
async def visit_token(request: Request, viewer: StaffDep) -> JSONResponse:
    """A fresh form token for the uploads; answers a login redirect once the session is gone, and
    the page then keeps its records."""
    return with_form_token(request, {})


@router.post("/web/visits/batch")
async def visit_batch(request: Request, data: VisitBatchIn, viewer: StaffDep) -> VisitBatchOut:
    """Every record gets an answer, each stored in its own transaction."""
    require_form_token(request)
    results = []
    for raw in data.records:
        client_id = str(raw.get("client_id") or "")[:64]
        try:
            visit = VisitIn.model_validate({k: v for k, v in raw.items() if k != "client_id"})
        except ValidationError as exc:
            fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in exc.errors())
            results.append(
                VisitResult(
                    client_id=client_id,
                    outcome="rejected",
                    message=f"记录内容无效：{fields}",
                    message_en=f"Invalid record: {fields}",
                )
            )
            continue
        results.append(await _store(request, viewer, client_id, visit))
    return VisitBatchOut(results=results)


async def _store(request: Request, viewer: Viewer, client_id: str, visit: VisitIn) -> VisitResult:
    try:
        async with transaction(sessionmaker_of(request)) as session:
            record = await record_visit(
                session=session, clock=clock_of(request), principal=viewer.principal, data=visit
            )
            return VisitResult(client_id=client_id, outcome="applied", record_id=record.id)
    except CoordinatorError as exc:
        # One resident has one record per itinerary, so a second one is already on the server:
        # a replay of this record whose answer was lost (the common case), or a visit another
        # visitor recorded first. No client id is stored (nor a column added) for it; the page
        # shows the record as "already recorded", never dropped silently.
        if exc.code == "visit_already_recorded" and visit.event_id is not None:
            return VisitResult(client_id=client_id, outcome="replayed")
        return VisitResult(
            client_id=client_id, outcome="rejected", message=exc.message, message_en=exc.message_en
        )
