"""A person's commitments: the live sign-ups that a new sign-up or a promotion of theirs must
respect (one live sign-up per event, no clash, the monthly maximum). The one query for them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.events.models import LIVE_SIGNUP_STATUSES, Event, EventStatus, Signup, SignupStatus


@dataclass(frozen=True)
class Commitment:
    person_id: int
    event_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    status: SignupStatus


def local_month(instant: datetime, zone: str) -> tuple[datetime, datetime, str]:
    """The calendar month (in the station's zone) holding ``instant``: UTC bounds and "YYYY-MM"."""
    local = instant.astimezone(ZoneInfo(zone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.astimezone(UTC), following.astimezone(UTC), f"{start.year:04d}-{start.month:02d}"


# Built once (SQLAlchemy reuses its compiled form): any live sign-up for the event, and confirmed
# ones of events not cancelled that overlap the window.
_COMMITMENTS = (
    select(Signup.person_id, Signup.event_id, Event.title, Event.starts_at, Event.ends_at, Signup.status)
    .join(Event, Event.id == Signup.event_id)
    .where(
        Signup.person_id.in_(bindparam("person_ids", expanding=True)),
        or_(
            and_(Signup.event_id == bindparam("event_id"), Signup.status.in_(LIVE_SIGNUP_STATUSES)),
            and_(
                Signup.status == SignupStatus.confirmed,
                Event.status != EventStatus.cancelled,
                Event.starts_at < bindparam("window_end"),
                Event.ends_at > bindparam("window_start"),
            ),
        ),
    )
)


async def load_commitments(
    session: AsyncSession, person_ids: Sequence[int], event: Event, zone: str
) -> dict[int, list[Commitment]]:
    """Per person: any live sign-up for ``event``, and their confirmed sign-ups of events not
    cancelled that overlap ``event`` or fall in its month. Exact only with the people locked."""
    month_start, month_end, _ = local_month(event.starts_at, zone)
    parameters = {
        "person_ids": list(person_ids),
        "event_id": event.id,
        "window_start": min(month_start, event.starts_at),
        "window_end": max(month_end, event.ends_at),
    }
    rows = await session.execute(_COMMITMENTS, parameters)
    found: dict[int, list[Commitment]] = defaultdict(list)
    for person_id, event_id, title, starts_at, ends_at, status in rows:
        found[person_id].append(
            Commitment(person_id, event_id, title, starts_at, ends_at, SignupStatus(status))
        )
    return found
