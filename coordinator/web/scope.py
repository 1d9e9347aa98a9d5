"""Which station a staff page is about, and small parsing helpers shared by the pages."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from coordinator.errors import Invalid
from coordinator.fields import MAX_ID, year_in_range
from coordinator.stations.models import Station
from coordinator.stations.service import get_station, list_stations
from coordinator.web.context import Viewer, invalid_flash

MAX_STATIONS_LISTED = 200
Shape = TypeVar("Shape", bound=BaseModel)


async def stations_of(session: AsyncSession, viewer: Viewer) -> list[Station]:
    rows, _ = await list_stations(
        session=session, principal=viewer.principal, limit=MAX_STATIONS_LISTED, cursor=None
    )
    return rows


async def pick_station(session: AsyncSession, viewer: Viewer, station_id: int | None) -> Station:
    """The station asked for (404 if not the viewer's), else the viewer's first one."""
    if station_id is not None:
        return await get_station(session=session, principal=viewer.principal, station_id=station_id)
    stations = await stations_of(session, viewer)
    if not stations:
        raise Invalid("尚未创建服务站", "No station exists yet", code="no_station")
    return stations[0]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional_text(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def integer(form: FormData, name: str, *, default: int | None = None) -> int:
    """A whole number that fits the database's integer columns (ids and counts alike)."""
    raw = text(form, name)
    if not raw and default is not None:
        return default
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is None or not -MAX_ID <= number <= MAX_ID:
        raise Invalid(f"请填写数字：{name}", f"A number is needed: {name}", field=name)
    return number


def checkbox(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "1", "true")


def local_datetime(day: str, clock_time: str, zone: ZoneInfo, *, field: str = "starts_at") -> datetime:
    """A date (in the years ``coordinator.fields`` allows) and a wall-clock time of the station, as an
    aware instant."""
    try:
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock_time), tzinfo=zone)
    except ValueError:
        local = None
    if local is None or not year_in_range(local.year):
        raise Invalid("请填写有效的日期和时间", "Enter a valid date and time", field=field)
    return local


def shaped(shape: type[Shape], **values: Any) -> Shape:
    """A form the request shapes refuse is a 422 page naming the field, as the API answers it."""
    try:
        return shape.model_validate(values)
    except ValidationError as exc:
        refused = invalid_flash(exc)
        raise Invalid(refused.zh, refused.en) from exc
