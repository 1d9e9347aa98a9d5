"""One error type for the whole service, rendered as the contract's error envelope.

``{"error": {"code": "capacity_full", "message": "…", "message_en": "…", "field": "…"}}``

``message`` is Chinese (what most users read); ``message_en`` carries the same sentence in English.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class CoordinatorError(Exception):
    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        message_en: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.code = code or self.default_code
        self.message = message
        self.message_en = message_en
        self.field = field
        self.details = details

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "message_en": self.message_en}
        if self.field is not None:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(CoordinatorError):
    status_code = 400
    default_code = "bad_request"


class Unauthorized(CoordinatorError):
    status_code = 401
    default_code = "unauthorized"


class Forbidden(CoordinatorError):
    status_code = 403
    default_code = "forbidden"


class NotFound(CoordinatorError):
    status_code = 404
    default_code = "not_found"


class Conflict(CoordinatorError):
    status_code = 409
    default_code = "conflict"


class Invalid(CoordinatorError):
    status_code = 422
    default_code = "invalid"


class TooLarge(CoordinatorError):
    status_code = 413
    default_code = "too_large"


class RateLimited(CoordinatorError):
    status_code = 429
    default_code = "rate_limited"


def not_found(kind_zh: str, kind_en: str, ident: object) -> NotFound:
    """The one "no such record" error; also used for records of stations the caller cannot see."""
    return NotFound(f"{kind_zh}不存在：{ident}", f"{kind_en} {ident} not found", code=f"{kind_en}_not_found")


_STATUS_TEXT: dict[int, tuple[str, str, str]] = {
    401: ("unauthorized", "请先登录", "Authentication required"),
    403: ("forbidden", "没有权限", "Not allowed"),
    404: ("not_found", "找不到该地址", "Not found"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
}


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts)


async def _coordinator_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CoordinatorError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(exc.envelope(), status_code=exc.status_code, headers=headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": _field_of(err.get("loc", ())), "message": str(err.get("msg", "")), "type": err.get("type")}
        for err in exc.errors()
    ]
    first = problems[0] if problems else {"field": None, "message": ""}
    error = Invalid(
        f"请求内容有误：{first['field']} {first['message']}".strip(),
        f"Invalid request: {first['field']} {first['message']}".strip(),
        code="validation_error",
        field=first["field"] or None,
        details={"problems": problems},
    )
    return JSONResponse(error.envelope(), status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, zh, en = _STATUS_TEXT.get(exc.status_code, ("http_error", "请求失败", "Request failed"))
    if isinstance(exc.detail, str) and exc.detail and exc.status_code not in _STATUS_TEXT:
        en = exc.detail
    body = {"error": {"code": code, "message": zh, "message_en": en}}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CoordinatorError, _coordinator_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
