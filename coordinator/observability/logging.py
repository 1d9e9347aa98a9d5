"""Structured logs (structlog): JSON lines in production, readable lines for development.

Every record — ours and the standard-library ones from uvicorn, SQLAlchemy or APScheduler — goes
through the same chain, which ends by masking phone numbers and ID numbers wherever they appear
(DESIGN §5.6: personal data never reaches the logs). During a request every record also carries
the request's id, and its user and station once known (``annotate_request``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from coordinator.masking import mask_text
from coordinator.settings import Settings

# A mutable dict per request: filled by the middleware, then by whoever learns more (the auth
# dependency learns the user). A dict rather than separate ContextVars so that code running in a
# copied context (threadpool dependencies) still writes into the request's own fields.
_request_fields: ContextVar[dict[str, Any] | None] = ContextVar("request_fields", default=None)

_HANDLER_MARK = "_coordinator_handler"
# Smallest integer that can be an 11-digit mobile number: ints get masked too.
_PHONE_SIZED_INT = 10**10


@contextmanager
def request_fields(**fields: Any) -> Iterator[dict[str, Any]]:
    """Open the log context of one request (the middleware does this)."""
    values: dict[str, Any] = dict(fields)
    token = _request_fields.set(values)
    try:
        yield values
    finally:
        _request_fields.reset(token)


def annotate_request(**fields: Any) -> None:
    """Add fields (``user_id``, ``station_id``) to the current request's log records; no-op outside one."""
    values = _request_fields.get()
    if values is not None:
        values.update({k: v for k, v in fields.items() if v is not None})


def add_request_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    values = _request_fields.get()
    if values:
        for key, value in values.items():
            event_dict.setdefault(key, value)
    return event_dict


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _PHONE_SIZED_INT:
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, MutableMapping):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask(item) for item in value]
    return value


def mask_personal_data(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Mask phones and 18-digit ID numbers in every value of the record (nested ones included)."""
    return {key: _mask(value) for key, value in event_dict.items()}


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Route structlog and the standard ``logging`` module to one handler on ``stream`` (stderr).

    Calling it again replaces the handler it installed before (tests capture into a StringIO)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_fields,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_personal_data,  # last before rendering: it sees the formatted traceback too
            renderer,
        ],
    )
    structlog.configure(
        # A record below the level is dropped before any processor runs (time stamp, request
        # fields, masking), not after all of them, as the standard logger would.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Our middleware writes one access record per request with more fields than uvicorn's, and
    # the scheduler logs its own tick failures: their per-run info lines would only be noise.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # A tick still busy when its next run is due is skipped on purpose (max_instances=1): a long
    # backlog drain would otherwise log a warning every interval.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)  # /readyz asks every few seconds
