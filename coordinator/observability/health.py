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
                {"status": "unavailable", "reason": "migrations not at head (database 0001, code 0002)"},
            ]
        }
    )
    status: str
    revision: str | None = None
    reason: str | None = None


@router.get("/healthz", summary="The process is up (does not touch the database)")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready for traffic: database reachable and migrations at head",
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
    return Readiness(status="ready", revision=current)


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
