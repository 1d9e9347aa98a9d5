"""Keyset pagination: ``limit`` + an opaque ``cursor``; answers ``{items, next_cursor}``."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.errors import Invalid
from coordinator.fields import MAX_ID

T = TypeVar("T")
ItemT = TypeVar("ItemT")

LimitQuery = Annotated[int, Query(ge=1, le=500, description="Page size")]
CursorQuery = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page")]


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = None


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, keys: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError
        return [_key_value(key.type.python_type, v) for key, v in zip(keys, raw, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:
        raise Invalid("分页游标无效", "Invalid cursor", code="invalid_cursor", field="cursor") from exc


def _key_value(kind: type, value: Any) -> Any:
    """One value of a cursor as its column takes it; anything else (a client's own edit) is refused."""
    if issubclass(kind, datetime):
        if not isinstance(value, str):
            raise TypeError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC)  # an offset past year 1 or 9999 overflows here, not in the database
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or not -MAX_ID <= value <= MAX_ID:
            raise ValueError
        return value
    if not isinstance(value, kind):
        raise TypeError
    return value


async def paginate(
    session: AsyncSession,
    stmt: Select[T],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    limit: int,
    cursor: str | None,
) -> tuple[list[T], str | None]:
    """Rows of ``stmt`` ordered by ``keys`` (the last one unique, usually the id), one page."""
    if cursor:
        stmt = stmt.where(tuple_(*keys) > tuple_(*_decode(cursor, keys)))
    rows = list((await session.scalars(stmt.order_by(*keys).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, _encode([getattr(last, key.key) for key in keys])
