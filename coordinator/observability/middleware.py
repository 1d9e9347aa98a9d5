"""One access record and two metrics per HTTP request, and the request id echoed back.

A plain ASGI middleware (not ``BaseHTTPMiddleware``): the endpoint runs in the same task and
context, so what the endpoint adds to the request's log fields is visible here at the end."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coordinator.observability.logging import request_fields
from coordinator.observability.metrics import Metrics

log = structlog.get_logger("coordinator.access")

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only if it is short and harmless to put in logs and headers.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED_ROUTE = "<unmatched>"


class RequestObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with request_fields(request_id=request_id) as fields:
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                duration = time.perf_counter() - started
                route = route_template(scope)
                method = scope["method"]
                self.metrics.http_requests.labels(route=route, method=method, status=str(status)).inc()
                self.metrics.http_request_duration.labels(route=route, method=method).observe(duration)
                station_id = (scope.get("path_params") or {}).get("station_id")
                if station_id is not None:
                    fields.setdefault("station_id", station_id)
                log.info(
                    "http_request",
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(duration * 1000, 2),
                )


def route_template(scope: Scope) -> str:
    """``/api/v1/people/{person_id}``, never the raw path: metric labels must stay few.

    The matched route knows its own template but, when it sits in an included router, not
    necessarily the router's prefix: the prefix is what the request path has before the part the
    route matched (prefixes are static in this app, so that adds no ids to the label)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        return UNMATCHED_ROUTE
    try:
        matched = template.format(**(scope.get("path_params") or {}))
    except (KeyError, IndexError, ValueError):
        return template
    path: str = scope["path"]
    if path != matched and path.endswith(matched):
        return path[: -len(matched)] + template
    return template


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.fullmatch(candidate) else None
    return None
