"""Series → events: create the occurrences up to the horizon, and make future occurrences follow
an edited series.

Each occurrence is named by its local date (``occurrence_key``) and made once, however many runs
race: the unique constraint ``(series_id, occurrence_key)`` and the series row lock keep them
apart (docs/concurrency.md, "Series"). Occurrence times are the station's wall clock
(``start_time`` on the occurrence's local date) converted to UTC with the station's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from coordinator.clock import Clock
from coordinator.db import transaction
from coordinator.errors import Conflict, CoordinatorError
from coordinator.events import lifecycle, service
from coordinator.events.models import Event, EventRole, EventSeries, EventStatus
from coordinator.events.schemas import EventCreate, EventUpdate, RoleIn
from coordinator.events.series.recurrence import series_dates
from coordinator.settings import Settings
from coordinator.stations.models import Station

log = structlog.get_logger(__name__)

SERIES_CHANGED_REASON = "系列活动规则已修改，此次活动取消"
SERIES_STOPPED_REASON = "系列活动已停止，此次活动取消"
# Template fields an occurrence copies from its series (and follows when the series changes).
_FOLLOWED_FIELDS = (
    "title",
    "description",
    "location",
    "reminder_offsets",
    "target_categories",
    "organization_id",
)


def occurrence_start(day: date, start_time: str, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``start_time`` ("HH:MM", wall clock of ``zone``) on ``day``."""
    hours, minutes = (int(part) for part in start_time.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)


async def station_zone(session: AsyncSession, station_id: int) -> ZoneInfo:
    zone = await session.scalar(select(Station.timezone).where(Station.id == station_id))
    return ZoneInfo(zone or "Asia/Shanghai")


def _window_end(series: EventSeries, today: date, settings: Settings) -> date:
    end = today + timedelta(days=settings.series_horizon_days)
    return min(end, series.until) if series.until is not None else end


def _planned(series: EventSeries, start: date, end: date) -> list[date]:
    return series_dates(
        rrule_text=series.rrule,
        festival=series.festival,
        starts_on=series.starts_on,
        until=series.until,
        start=start,
        end=end,
    )


def _event_data(series: EventSeries, starts_at: datetime) -> EventCreate:
    return EventCreate(
        station_id=series.station_id,
        theme=series.theme,
        title=series.title,
        description=series.description,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=series.duration_minutes),
        location=series.location,
        organization_id=series.organization_id,
        roles=[RoleIn.model_validate(role) for role in series.roles],
        reminder_offsets=series.reminder_offsets,
        target_categories=series.target_categories,
    )


async def materialize_series(
    session: AsyncSession, clock: Clock, settings: Settings, *, series: EventSeries, zone: ZoneInfo
) -> int:
    """Create the occurrences of ``series`` from now to the horizon that do not exist yet.

    An occurrence that exists in any state (cancelled, detached …) is never made again. Answers
    how many events were created."""
    now = clock.now()
    today = now.astimezone(zone).date()
    end = _window_end(series, today, settings)
    existing = set(await session.scalars(select(Event.occurrence_key).where(Event.series_id == series.id)))
    created = 0
    for day in _planned(series, today, end):
        key = day.isoformat()
        starts_at = occurrence_start(day, series.start_time, zone)
        if key in existing or starts_at <= now:
            continue
        try:
            # The event is added inside this savepoint so that, if a concurrent run inserted the
            # same occurrence first, rolling back removes it from the session again.
            async with session.begin_nested():
                event = await service.create_event(
                    session,
                    clock,
                    data=_event_data(series, starts_at),
                    created_by=None,
                    series_id=series.id,
                    occurrence_key=key,
                )
                if series.publish:
                    await service.publish_event(session, clock, event=event)
        except Conflict as exc:
            if exc.code != "occurrence_exists":
                raise
            log.info("occurrence_made_concurrently", series_id=series.id, occurrence_key=key)
            continue
        created += 1
    series.materialized_until = occurrence_start(end, series.start_time, zone)
    await session.flush()
    return created


async def materialize_all(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings, **_: Any
) -> int:
    """Scheduler tick: materialize every active series, each in a transaction of its own (one
    broken series never holds up the others). Answers how many events were created."""
    async with sessionmaker() as session:
        series_ids = list(
            await session.scalars(
                select(EventSeries.id).where(EventSeries.is_active.is_(True)).order_by(EventSeries.id)
            )
        )
    created = 0
    for series_id in series_ids:
        try:
            async with transaction(sessionmaker) as session:
                created += await _materialize_one(session, clock, settings, series_id)
        except CoordinatorError as exc:
            # The series' template no longer fits (e.g. a skill was removed from the vocabulary):
            # skip it and say so; an edit of the series repairs it.
            log.warning("series_materialize_failed", series_id=series_id, code=exc.code, error=exc.message_en)
    return created


async def _materialize_one(session: AsyncSession, clock: Clock, settings: Settings, series_id: int) -> int:
    series = await session.scalar(
        select(EventSeries)
        .where(EventSeries.id == series_id, EventSeries.is_active.is_(True))
        .with_for_update(skip_locked=True)
    )
    if series is None:
        return 0  # deactivated meanwhile, or another run holds it
    zone = await station_zone(session, series.station_id)
    today = clock.now().astimezone(zone).date()
    horizon_start = occurrence_start(_window_end(series, today, settings), series.start_time, zone)
    if series.materialized_until is not None and series.materialized_until >= horizon_start:
        return 0  # nothing new can be due before the horizon moves on
    return await materialize_series(session, clock, settings, series=series, zone=zone)


async def _future_occurrences(session: AsyncSession, series: EventSeries, now: datetime) -> list[Event]:
    """Occurrences that still follow the series: not edited on their own, not started, not finished."""
    return list(
        await session.scalars(
            select(Event)
            .where(
                Event.series_id == series.id,
                Event.detached.is_(False),
                Event.starts_at > now,
                Event.status.in_([EventStatus.draft, EventStatus.published]),
            )
            .options(selectinload(Event.roles))
            .order_by(Event.starts_at, Event.id)
            # NO KEY, as every event edit (docs/concurrency.md): a sign-up holding a role's
            # lock passes its foreign-key check on the event. A draft dropped below takes the
            # stronger lock as it is deleted; nobody signs up for a draft.
            .with_for_update(of=Event, key_share=True)
        )
    )


async def _drop(session: AsyncSession, clock: Clock, event: Event, reason: str) -> None:
    """A draft nobody could see is deleted; a published occurrence is cancelled (and people told)."""
    if event.status == EventStatus.draft:
        await session.delete(event)
        await session.flush()
    else:
        await lifecycle.cancel_event(session, clock, event=event, reason=reason)


async def follow_series(
    session: AsyncSession, clock: Clock, settings: Settings, *, series: EventSeries
) -> None:
    """After an edit: future occurrences the rule no longer gives are dropped, the others take the
    new time and template, and new dates up to the horizon are materialized. Past, started and
    detached occurrences are left as they are. ``series`` is locked by the caller."""
    zone = await station_zone(session, series.station_id)
    now = clock.now()
    today = now.astimezone(zone).date()
    events = await _future_occurrences(session, series, now)
    last = max([_window_end(series, today, settings)] + [_key_date(e) for e in events])
    planned = {day.isoformat() for day in _planned(series, today, last)}
    for event in events:
        if event.occurrence_key not in planned:
            await _drop(session, clock, event, SERIES_CHANGED_REASON)
            continue
        await _follow(session, clock, series, event, zone)
    await materialize_series(session, clock, settings, series=series, zone=zone)


def _key_date(event: Event) -> date:
    assert event.occurrence_key is not None
    return date.fromisoformat(event.occurrence_key)


async def _follow(
    session: AsyncSession, clock: Clock, series: EventSeries, event: Event, zone: ZoneInfo
) -> None:
    starts_at = occurrence_start(_key_date(event), series.start_time, zone)
    ends_at = starts_at + timedelta(minutes=series.duration_minutes)
    # An occurrence the new time would put in the past (later today, moved earlier) keeps its time.
    if (starts_at, ends_at) != (event.starts_at, event.ends_at) and starts_at > clock.now():
        await lifecycle.reschedule_event(
            session, clock, event=event, starts_at=starts_at, ends_at=ends_at, from_series=True
        )
    changes = {f: getattr(series, f) for f in _FOLLOWED_FIELDS if getattr(series, f) != getattr(event, f)}
    if changes:
        await service.update_event(session, clock, event=event, data=EventUpdate(**changes), from_series=True)
    if event.status == EventStatus.draft:
        await _replace_draft_roles(session, event, series.roles)
        if series.publish:
            await service.publish_event(session, clock, event=event)


async def _replace_draft_roles(session: AsyncSession, event: Event, roles: list[dict[str, Any]]) -> None:
    """Drafts take the series' roles as they are (no sign-ups can exist on a draft); published
    occurrences keep theirs, since people signed up for those roles."""
    current = [(r.name, r.count, r.skills, r.languages, r.party_members_only) for r in event.roles]
    wanted = [
        (r["name"], r["count"], list(r["skills"]), list(r["languages"]), r["party_members_only"])
        for r in roles
    ]
    if current == wanted:
        return
    # The old rows go first: role names are unique per event.
    event.roles = []
    await session.flush()
    event.roles = [
        EventRole(
            position=i,
            name=name,
            count=count,
            skills=skills,
            languages=languages,
            party_members_only=party_only,
        )
        for i, (name, count, skills, languages, party_only) in enumerate(wanted)
    ]
    event.capacity = sum(r["count"] for r in roles)
    await session.flush()


async def stop_series(session: AsyncSession, clock: Clock, *, series: EventSeries) -> int:
    """Deactivate: future occurrences that follow the series are dropped; answers how many."""
    series.is_active = False
    series.updated_at = clock.now()
    events = await _future_occurrences(session, series, clock.now())
    for event in events:
        await _drop(session, clock, event, SERIES_STOPPED_REASON)
    await session.flush()
    return len(events)
