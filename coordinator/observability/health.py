"""``/healthz``, ``/readyz`` and ``/metrics``, at the root, where load balancers and Prometheus look."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from coordinator.migrate import current_revision, head_revision
from coordinator.observability.metrics import Metrics
from coordinator.replica import Reads

router = APIRouter(tags=["operations"])

READINESS_TIMEOUT_SECONDS = 5.0


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})
    status: str


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "revision": "0001"},
                {"status": "ready", "revision": "0001", "replica": "lagging", "replica_lag_seconds": 42.5},
                {"status": "unavailable", "reason": "migrations not at head (database 0001, code 0002)"},
            ]
        }
    )
    status: str
    revision: str | None = None
    reason: str | None = None
    replica: str | None = None  # with a read replica configured: streaming, lagging or down
    replica_lag_seconds: float | None = None


@router.get("/healthz", summary="The process is up (does not touch the database)")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready for traffic: database reachable and migrations at head (and the replica's state)",
    responses={503: {"model": Readiness, "description": "Not ready, with the reason"}},
)
async def readyz(request: Request) -> Any:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            current = await current_revision(engine)
    except Exception as exc:
        return _unavailable(f"database unreachable: {type(exc).__name__}")
    head = head_revision()
    if current != head:
        return _unavailable(f"migrations not at head (database {current or 'empty'}, code {head})")
    # The replica's state is reported, never a reason to refuse traffic: while it lags or is down,
    # its reads go to the primary, which has just answered.
    reads: Reads = request.app.state.reads
    replica = await reads.state(timeout_seconds=READINESS_TIMEOUT_SECONDS)
    return Readiness(
        status="ready",
        revision=current,
        replica=replica.state if replica else None,
        replica_lag_seconds=replica.lag_seconds if replica else None,
    )


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse(Readiness(status="unavailable", reason=reason).model_dump(exclude_none=True), 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics of this process",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    app_metrics: Metrics = request.app.state.metrics
    body, content_type = app_metrics.render()
    return Response(content=body, media_type=content_type)
