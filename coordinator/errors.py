"""One error type for the whole service, rendered as the contract's error envelope.

``{"error": {"code": "capacity_full", "message": "…", "message_en": "…", "field": "…"}}``

``message`` is Chinese (what most users read); ``message_en`` carries the same sentence in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
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

    @property
    def headers(self) -> dict[str, str] | None:
        """HTTP headers the answer carries with the envelope."""
        return None

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

    @property
    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


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
    """``details["retry_after"]`` (seconds), when given, is also sent as ``Retry-After``."""

    status_code = 429
    default_code = "rate_limited"

    @property
    def headers(self) -> dict[str, str] | None:
        retry_after = (self.details or {}).get("retry_after")
        return {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else None


def not_found(kind_zh: str, kind_en: str, ident: object) -> NotFound:
    """The one "no such record" error; also used for records of stations the caller cannot see."""
    return NotFound(f"{kind_zh}不存在：{ident}", f"{kind_en} {ident} not found", code=f"{kind_en}_not_found")


class ErrorBody(BaseModel):
    """What went wrong, for people (``message`` in Chinese, ``message_en``) and for programs (``code``)."""

    code: str = Field(examples=["capacity_full"])
    message: str = Field(examples=["该岗位名额已满"])
    message_en: str = Field(examples=["This role is full"])
    field: str | None = Field(default=None, examples=["role"])
    details: dict[str, Any] | None = None


_CAPACITY_FULL: dict[str, Any] = {
    "code": "capacity_full",
    "message": "该岗位名额已满",
    "message_en": "This role is full",
    "field": "role",
}


class ErrorEnvelope(BaseModel):
    """The contract's error envelope; every error status answers it (DESIGN §4)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": _CAPACITY_FULL}]})

    error: ErrorBody


# One example per status, so /docs shows what each error looks like.
_ERROR_EXAMPLES: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Bad request", {"code": "bad_request", "message": "请求有误", "message_en": "Bad request"}),
    401: (
        "Not logged in, or the token is invalid or expired",
        {"code": "not_authenticated", "message": "请先登录", "message_en": "Authentication required"},
    ),
    403: (
        "The caller's role may not do this",
        {"code": "forbidden", "message": "没有权限", "message_en": "Not allowed"},
    ),
    404: (
        "No such record, or it belongs to a station the caller cannot see",
        {"code": "event_not_found", "message": "活动不存在：42", "message_en": "event 42 not found"},
    ),
    409: ("The request conflicts with the record's current state", _CAPACITY_FULL),
    410: (
        "The link has expired",
        {"code": "invitation_expired", "message": "邀请已过期", "message_en": "The invitation has expired"},
    ),
    413: (
        "The upload is too large",
        {"code": "too_large", "message": "文件过大", "message_en": "File too large"},
    ),
    422: (
        "Invalid input; `field` names the first problem, `details.problems` lists them all",
        {
            "code": "validation_error",
            "message": "请求内容有误：ends_at 结束时间必须晚于开始时间",
            "message_en": "Invalid request: ends_at must be after starts_at",
            "field": "ends_at",
        },
    ),
    429: (
        "Too many requests; try again later",
        {"code": "rate_limited", "message": "请求过于频繁", "message_en": "Too many requests"},
    ),
    503: (
        "A service this needs (the database, WeChat) is busy or unreachable; try again shortly",
        {
            "code": "wechat_unavailable",
            "message": "微信暂时无法登录，请稍后再试",
            "message_en": "WeChat sign-in is unavailable",
        },
    ),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error envelope for ``statuses``."""
    return {
        status: {
            "model": ErrorEnvelope,
            "description": _ERROR_EXAMPLES[status][0],
            "content": {"application/json": {"example": {"error": _ERROR_EXAMPLES[status][1]}}},
        }
        for status in statuses
    }


# The errors a logged-in staff route can answer: not logged in, wrong role, unknown (or another
# station's) record, a state rule broken, invalid input. Routers include it with ``responses=``.
ERROR_RESPONSES = error_responses(401, 403, 404, 409, 422)


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
    return JSONResponse(exc.envelope(), status_code=exc.status_code, headers=exc.headers)


# Chinese for the refusals of the shared field types (``coordinator.fields``) and of number bounds;
# other problems keep pydantic's English sentence after the Chinese lead.
_PROBLEMS_ZH: dict[str, str] = {
    "control_character": "不能包含控制字符（如换行符、制表符），发现 U+{code}",
    "date_out_of_range": "日期须在{first}年至{last}年之间",
    "less_than_equal": "不能大于 {le}",
    "greater_than_equal": "不能小于 {ge}",
}


def _in_chinese(err: Mapping[str, Any]) -> str:
    template = _PROBLEMS_ZH.get(str(err.get("type")))
    if template is None:
        return str(err.get("msg", ""))
    return template.format(**err.get("ctx", {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    problems = [
        {"field": _field_of(err.get("loc", ())), "message": str(err.get("msg", "")), "type": err.get("type")}
        for err in errors
    ]
    first = problems[0] if problems else {"field": None, "message": ""}
    first_zh = _in_chinese(errors[0]) if errors else ""
    error = Invalid(
        f"请求内容有误：{first['field']} {first_zh}".strip(),
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


# SQLite's answer when its one writer's lock stayed taken for the whole busy timeout.
_SQLITE_BUSY = ("database is locked", "database table is locked")


class DatabaseBusy(CoordinatorError):
    status_code = 503
    default_code = "database_busy"


async def _operational_error(_: Request, exc: Exception) -> JSONResponse:
    """A busy database is worth a retry, not a 500; any other operational error stays a 500."""
    assert isinstance(exc, OperationalError)
    if not any(text in str(exc.orig) for text in _SQLITE_BUSY):
        raise exc
    busy = DatabaseBusy("服务器繁忙，请稍后重试", "The server is busy; try again in a moment")
    return JSONResponse(busy.envelope(), status_code=busy.status_code, headers={"Retry-After": "2"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CoordinatorError, _coordinator_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
