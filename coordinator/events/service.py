"""Events: create from a theme, read, list, change, publish.

Routes (and the series materializer) authorize and load the event first; the functions here
apply the rules. Rescheduling and cancelling live in ``events.lifecycle``, the field rules in
``events.event_fields``. A change loads the event with ``for_update=True``, a ``FOR NO KEY UPDATE``
lock, so a sign-up's foreign-key check on the event never waits for it (docs/concurrency.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.domain_events import DomainEventType
from coordinator.errors import Conflict, Invalid, not_found
from coordinator.events.event_fields import (
    capacity_follows_counts,
    check_capacity,
    check_categories,
    check_organization,
    check_roles,
    check_times,
)
from coordinator.events.lifecycle import ensure_changeable, event_payload
from coordinator.events.models import Event, EventRole, EventStatus
from coordinator.events.schemas import EventCreate, EventUpdate, RoleIn, RolePatch, theme_roles
from coordinator.events.signups.places import lock_event_roles
from coordinator.events.signups.rules import places_held
from coordinator.events.signups.waitlist import fill_free_places
from coordinator.events.themes import resolve_theme
from coordinator.events.windows import bound
from coordinator.pagination import paginate
from coordinator.people.vocabularies import load_vocabulary
from coordinator.stations.models import Station

# Fields that appear in people's calendars: changing them bumps the iCalendar SEQUENCE.
VISIBLE_FIELDS = frozenset({"title", "description", "location"})


@dataclass(frozen=True)
class EventFilters:
    station_id: int | None = None
    theme: str | None = None
    status: EventStatus | None = None
    # Events still running at or after this instant, or the start of this local day.
    starts_from: datetime | date | None = None
    # Events starting before this instant, or the end of this local day.
    starts_to: datetime | date | None = None


async def create_event(
    session: AsyncSession,
    clock: Clock,
    *,
    data: EventCreate,
    created_by: int | None,
    series_id: int | None = None,
    occurrence_key: str | None = None,
) -> Event:
    """A draft event with the theme's defaults for whatever ``data`` leaves out.

    The caller has checked that the station may be used. A second occurrence of a series with the
    same ``occurrence_key`` raises ``Conflict("occurrence_exists")`` and leaves the transaction usable."""
    theme = await resolve_theme(session, station_id=data.station_id, code=data.theme)
    vocabulary = await load_vocabulary(session=session, station_id=data.station_id)
    ends_at = data.ends_at or data.starts_at + timedelta(minutes=theme.duration_minutes)
    check_times(data.starts_at, ends_at)
    roles = data.roles if data.roles is not None else theme_roles(theme)
    check_roles(vocabulary, roles)
    capacity = check_capacity(data.capacity, roles)
    if data.organization_id is not None:
        await check_organization(session, station_id=data.station_id, organization_id=data.organization_id)
    offsets = data.reminder_offsets if data.reminder_offsets is not None else list(theme.reminder_offsets)
    categories = data.target_categories
    now = clock.now()
    event = Event(
        station_id=data.station_id,
        organization_id=data.organization_id,
        series_id=series_id,
        occurrence_key=occurrence_key,
        detached=False,
        theme=theme.code,
        title=data.title or theme.name_zh,
        description=data.description,
        location=data.location,
        starts_at=data.starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        capacity=capacity,
        status=EventStatus.draft,
        reminder_offsets=offsets,
        target_categories=check_categories(categories if categories is not None else theme.target_categories),
        sequence=0,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    event.roles = [_role_row(i, role) for i, role in enumerate(roles)]
    session.add(event)
    if series_id is None:
        await session.flush()
    else:
        await flush_or_raise(
            session,
            Conflict(
                "该系列活动的此次活动已存在",
                f"Occurrence {occurrence_key} of series {series_id} exists",
                code="occurrence_exists",
            ),
        )
    await emit(
        session,
        clock,
        DomainEventType.event_created,
        aggregate_type="event",
        aggregate_id=event.id,
        station_id=event.station_id,
        payload={**event_payload(event), "theme": event.theme, "series_id": series_id},
    )
    return event


def _role_row(position: int, role: RoleIn) -> EventRole:
    return EventRole(
        position=position,
        name=role.name,
        count=role.count,
        skills=list(role.skills),
        languages=list(role.languages),
        party_members_only=role.party_members_only,
    )


_EVENT_AND_ZONE = (
    select(Event, Station.timezone)
    .join(Station, Station.id == Event.station_id)
    .where(Event.id == bindparam("event_id"))
)
# Built once (SQLAlchemy reuses their compiled form). Locked, the roles come in a statement of
# their own: rows joined to a locked row keep the snapshot from before the lock's wait. NO KEY:
# sign-ups' foreign-key checks on the event pass (docs/concurrency.md).
_LOAD_EVENT = _EVENT_AND_ZONE.options(joinedload(Event.roles))
_LOAD_EVENT_LOCKED = (
    _EVENT_AND_ZONE.options(selectinload(Event.roles))
    .with_for_update(of=Event, key_share=True)
    .execution_options(populate_existing=True)
)


async def load_event(
    session: AsyncSession, event_id: int, *, principal: Principal | None = None, for_update: bool = False
) -> tuple[Event, str]:
    """The event with its roles, and its station's time zone. With ``principal``: only an event
    they may see (``may_see``); anything else answers 404 as if it did not exist."""
    stmt = _LOAD_EVENT_LOCKED if for_update else _LOAD_EVENT
    row = (await session.execute(stmt, {"event_id": event_id})).unique().one_or_none()
    if row is None or (principal is not None and not may_see(principal, row[0])):
        raise not_found("活动", "event", event_id)
    return row[0], row[1]


async def get_event_for(
    session: AsyncSession, principal: Principal, event_id: int, *, for_update: bool = False
) -> Event:
    """``load_event`` for a caller: staff see every event of their stations, volunteers the
    non-draft events of theirs."""
    return (await load_event(session, event_id, principal=principal, for_update=for_update))[0]


def may_see(principal: Principal, event: Event) -> bool:
    if not principal.can_access(event.station_id):
        return False
    return principal.role in STAFF_ROLES or event.status != EventStatus.draft


async def list_events(
    session: AsyncSession, principal: Principal, *, filters: EventFilters, limit: int, cursor: str | None
) -> tuple[list[Event], str | None]:
    """Events in start order. Volunteers never see drafts."""
    stmt = select(Event).where(principal.station_filter(Event.station_id)).options(selectinload(Event.roles))
    if principal.role not in STAFF_ROLES:
        stmt = stmt.where(Event.status != EventStatus.draft)
    if filters.station_id is not None:
        stmt = stmt.where(Event.station_id == filters.station_id)
    if filters.theme is not None:
        stmt = stmt.where(Event.theme == filters.theme)
    if filters.status is not None:
        stmt = stmt.where(Event.status == filters.status)
    if filters.starts_from is not None:
        stmt = stmt.where(
            await bound(session, filters.starts_from, lambda at: Event.ends_at > at, day_end=False)
        )
    if filters.starts_to is not None:
        stmt = stmt.where(
            await bound(session, filters.starts_to, lambda at: Event.starts_at < at, day_end=True)
        )
    return await paginate(session, stmt, keys=[Event.starts_at, Event.id], limit=limit, cursor=cursor)


async def update_event(
    session: AsyncSession, clock: Clock, *, event: Event, data: EventUpdate, from_series: bool = False
) -> Event:
    """Apply the fields sent. ``event`` was loaded with ``for_update=True``. An edit of one
    occurrence of a series detaches it, unless the series itself is making the edit."""
    ensure_changeable(event)
    sent = data.model_fields_set
    changed: set[str] = set()
    for field in ("title", "description", "location", "reminder_offsets"):
        if field in sent and getattr(event, field) != getattr(data, field):
            setattr(event, field, getattr(data, field))
            changed.add(field)
    if "target_categories" in sent and data.target_categories is not None:
        categories = check_categories(data.target_categories)
        if categories != event.target_categories:
            event.target_categories = categories
            changed.add("target_categories")
    if "organization_id" in sent and data.organization_id != event.organization_id:
        if data.organization_id is not None:
            await check_organization(
                session, station_id=event.station_id, organization_id=data.organization_id
            )
        event.organization_id = data.organization_id
        changed.add("organization_id")
    grown: list[EventRole] = []
    if data.roles is not None or data.capacity is not None:
        places_changed, grown = await _change_places(session, event, data)
        changed |= places_changed
    if not changed:
        return event
    note_change(event, changed, clock.now(), from_series=from_series)
    await flush_or_raise(
        session, Conflict("岗位名称重复", "Two roles would have the same name", code="duplicate_role")
    )
    await emit_updated(session, clock, event=event, changed=changed)
    if grown and event.status == EventStatus.published:
        # New places go to the waiting people first, in arrival order, as when a place is freed.
        zone = (
            await session.execute(select(Station.timezone).where(Station.id == event.station_id))
        ).scalar_one()
        for role in grown:
            await fill_free_places(session, clock, event=event, role=role, zone=zone)
    return event


def note_change(event: Event, changed: set[str], now: datetime, *, from_series: bool = False) -> None:
    """What every edit of an event does besides the change: the time, the calendar SEQUENCE for
    changes people see, and an occurrence of a series edited on its own leaves the series."""
    event.updated_at = now
    if changed & VISIBLE_FIELDS:
        event.sequence += 1
    if event.series_id is not None and not from_series:
        event.detached = True


async def emit_updated(session: AsyncSession, clock: Clock, *, event: Event, changed: set[str]) -> None:
    """``EventUpdated`` naming the fields that changed, for every edit (notifications, stats)."""
    await emit(
        session,
        clock,
        DomainEventType.event_updated,
        aggregate_type="event",
        aggregate_id=event.id,
        station_id=event.station_id,
        payload={**event_payload(event), "changed": sorted(changed)},
    )


async def _change_places(
    session: AsyncSession, event: Event, data: EventUpdate
) -> tuple[set[str], list[EventRole]]:
    """Roles and capacity; answers what changed and the roles that gained places.

    The role rows are locked (the lock a sign-up takes to claim a place), so the places held —
    confirmed plus invited — are current when a count is lowered."""
    await lock_event_roles(session, event)
    follows_counts = capacity_follows_counts(event.capacity, event.roles)
    changed: set[str] = set()
    grown: list[EventRole] = []
    if data.roles is not None:
        vocabulary = await load_vocabulary(session=session, station_id=event.station_id)
        check_roles(vocabulary, data.roles)
        for i, patch in enumerate(data.roles):
            role = _find_role(event, patch, field=f"roles.{i}")
            if role is None:
                # After the last current role: removed roles keep their positions.
                position = max((r.position for r in event.roles), default=-1) + 1
                event.roles.append(_role_row(position, patch))
                changed.add("roles")
                continue
            if patch.count > role.count:
                grown.append(role)
            elif patch.count < role.count:
                _check_places_held(role, patch.count, field=f"roles.{i}.count")
            if _apply_role(role, patch):
                changed.add("roles")
    capacity = data.capacity
    if capacity is None:
        capacity = sum(role.count for role in event.roles) if follows_counts else event.capacity
    capacity = check_capacity(capacity, event.roles)
    if capacity != event.capacity:
        event.capacity = capacity
        changed.add("capacity")
    return changed, grown


def _check_places_held(role: EventRole, count: int, *, field: str) -> None:
    """A count may not drop below the places people hold; ``PATCH /events/{id}/roles/{role_id}``
    with ``force`` is the way to take places away from confirmed people."""
    if count >= places_held(role):
        return
    invited = role.invited_count
    raise Conflict(
        f"岗位「{role.name}」已确认{role.confirmed_count}人、邀请{invited}人，名额不能少于此数",
        f"Role {role.name!r} has {role.confirmed_count} confirmed and {invited} invited; no fewer places",
        code="role_count_below_confirmed",
        field=field,
        details={"role_id": role.id, "confirmed": role.confirmed_count, "invited": invited},
    )


def _apply_role(role: EventRole, patch: RolePatch) -> bool:
    values: dict[str, Any] = {
        "name": patch.name,
        "count": patch.count,
        "skills": list(patch.skills),
        "languages": list(patch.languages),
        "party_members_only": patch.party_members_only,
    }
    changed = False
    for key, value in values.items():
        if getattr(role, key) != value:
            setattr(role, key, value)
            changed = True
    return changed


def _find_role(event: Event, patch: RolePatch, *, field: str) -> EventRole | None:
    if patch.id is not None:
        for role in event.roles:
            if role.id == patch.id:
                return role
        raise Invalid(
            f"该活动没有此岗位：{patch.id}",
            f"Role {patch.id} is not a role of this event",
            code="unknown_role",
            field=f"{field}.id",
        )
    return next((role for role in event.roles if role.name == patch.name), None)


async def publish_event(session: AsyncSession, clock: Clock, *, event: Event) -> Event:
    """Open a draft for sign-ups; a past event cannot be published."""
    ensure_changeable(event)
    if event.status != EventStatus.draft:
        raise Conflict("只有草稿状态的活动可以发布", "Only a draft can be published", code="event_not_draft")
    now = clock.now()
    if event.starts_at <= now:
        raise Conflict(
            "活动开始时间已过，不能发布",
            "The event has already started; it cannot be published",
            code="event_in_past",
        )
    event.status = EventStatus.published
    event.published_at = now
    event.updated_at = now
    await session.flush()
    await emit(
        session,
        clock,
        DomainEventType.event_published,
        aggregate_type="event",
        aggregate_id=event.id,
        station_id=event.station_id,
        payload=event_payload(event),
    )
    return event
