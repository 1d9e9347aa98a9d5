"""The ``from``/``to`` bounds of event lists: an instant with its offset, or a plain date meaning
that day in each event's own station zone (a county may span zones)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.events.models import Event
from coordinator.stations.models import Station

Compare = Callable[[datetime], ColumnElement[bool]]


async def bound(
    session: AsyncSession, value: datetime | date, compare: Compare, *, day_end: bool
) -> ColumnElement[bool]:
    """``compare(instant)``; for a date, the instant is the start of that day (or, with
    ``day_end``, of the next) in the zone of each event's station."""
    if isinstance(value, datetime):  # first: a datetime is a date too
        return compare(value)
    day = value + timedelta(days=1) if day_end else value
    zones = await session.scalars(select(Station.timezone).distinct())
    return or_(
        false(),
        *(
            and_(
                Event.station_id.in_(select(Station.id).where(Station.timezone == name)),
                compare(datetime.combine(day, time(), ZoneInfo(name))),
            )
            for name in zones
        ),
    )
