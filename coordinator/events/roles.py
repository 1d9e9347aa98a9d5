"""A role's places: changing its count, removing it, and the names of removed roles.

A count change is an edit of the event (capacity follows the counts unless set; ``EventUpdated``
names it): a raise promotes waiting people, a cut below the places held needs ``force``, which
moves the latest confirmed to the head of the waitlist. A role goes only when nobody holds, is
invited to or waits for a place in it, and only before the event starts; its row stays, marked
``removed_at``, because its ended sign-ups are history that stats and people's pages read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from coordinator.clock import Clock
from coordinator.errors import Conflict, Invalid, not_found
from coordinator.events.event_fields import capacity_follows_counts, check_capacity
from coordinator.events.lifecycle import ensure_changeable
from coordinator.events.models import (
    Event,
    EventRole,
    EventStatus,
    Signup,
)
from coordinator.events.service import emit_updated, load_event, note_change
from coordinator.events.signups.places import lock_role
from coordinator.events.signups.rules import places_held
from coordinator.events.signups.waitlist import demote_latest_confirmed, fill_free_places

MAX_ROLE_COUNT = 10_000


@dataclass
class RoleCountChange:
    role: EventRole
    promoted: list[Signup] = field(default_factory=list)
    demoted: list[Signup] = field(default_factory=list)


async def set_role_count(
    session: AsyncSession, clock: Clock, *, role: EventRole, count: int, force: bool
) -> RoleCountChange:
    """Change a role's places (see the module's docstring).

    Locks the event row (``FOR NO KEY UPDATE``, as every edit), then the role, then people."""
    if not 0 <= count <= MAX_ROLE_COUNT:
        raise Invalid(
            f"名额须在 0 到 {MAX_ROLE_COUNT} 之间",
            f"count must be between 0 and {MAX_ROLE_COUNT}",
            code="invalid_count",
            field="count",
        )
    event, zone = await load_event(session, role.event_id, for_update=True)
    now = clock.now()
    if event.status not in (EventStatus.draft, EventStatus.published) or event.starts_at <= now:
        raise Conflict(
            "活动已开始、已取消或已结束，不能修改名额",
            f"Event {event.id} has started, is cancelled or completed: its places cannot change",
            code="event_not_open",
        )
    follows = capacity_follows_counts(event.capacity, event.roles)
    role = await lock_role(session, role.id)
    held, invited = places_held(role), role.invited_count
    if count < held:
        _check_may_lower(role, count, invited, force)
    changed = {"roles"} if count != role.count else set()
    role.count = count
    capacity = check_capacity(None if follows else event.capacity, event.roles, field="count")
    change = RoleCountChange(role)
    overflow = held - count
    if overflow > 0:
        change.demoted = await demote_latest_confirmed(
            session, clock, event=event, role=role, how_many=overflow
        )
    if capacity != event.capacity:
        event.capacity = capacity
        changed.add("capacity")
    if changed:
        note_change(event, changed, now)
    await session.flush()
    if changed:
        await emit_updated(session, clock, event=event, changed=changed)
    change.promoted = await fill_free_places(session, clock, event=event, role=role, zone=zone)
    return change


def _check_may_lower(role: EventRole, count: int, invited: int, force: bool) -> None:
    if count < invited:
        raise Conflict(
            f"名额不能少于待答复的邀请数（{invited}）",
            f"count cannot be below the {invited} unanswered invitations of the role",
            code="role_count_below_invited",
            field="count",
            details={"invited": invited},
        )
    if not force:
        raise Conflict(
            f"岗位已确认 {role.confirmed_count} 人、邀请 {invited} 人，名额不能改为 {count}；"
            "如确需减少，请使用 force（最后确认的人将移入候补队首）",
            f"The role has {role.confirmed_count} confirmed and {invited} invited; count {count} is below "
            "that. Use force to move the latest confirmed to the head of the waitlist",
            code="role_count_below_confirmed",
            field="count",
            details={"confirmed": role.confirmed_count, "invited": invited},
        )


def role_of(event: Event, role_id: int) -> EventRole:
    """The current role ``role_id`` of ``event`` (404 for a removed role or another event's)."""
    role = next((r for r in event.roles if r.id == role_id), None)
    if role is None:
        raise not_found("岗位", "role", role_id)
    return role


async def remove_role(session: AsyncSession, clock: Clock, *, event: Event, role_id: int) -> None:
    """Remove a role of ``event``, which the caller loaded with ``for_update=True``. The role's
    lock orders this with the sign-ups for it (docs/concurrency.md)."""
    role = role_of(event, role_id)
    ensure_changeable(event)
    now = clock.now()
    if event.starts_at <= now:
        raise Conflict(
            "活动已开始，不能再删除岗位",
            "The event has started; its roles can no longer be removed",
            code="event_in_past",
        )
    if len(event.roles) == 1:
        raise Conflict(
            f"活动至少要有一个岗位，「{role.name}」是最后一个，不能删除",
            f"An event needs at least one role; {role.name!r} is its last",
            code="last_role",
        )
    await lock_role(session, role.id)
    _check_nobody_holds(role)
    follows_counts = capacity_follows_counts(event.capacity, event.roles)
    role.removed_at = now
    # Out of the collection without a change recorded on it: its delete-orphan cascade would
    # delete the row (and with it the role's sign-ups).
    set_committed_value(event, "roles", [r for r in event.roles if r is not role])
    changed = {"roles"}
    if follows_counts and role.count:
        event.capacity -= role.count
        changed.add("capacity")
    note_change(event, changed, now)
    await session.flush()
    await emit_updated(session, clock, event=event, changed=changed)


def _check_nobody_holds(role: EventRole) -> None:
    """No confirmed, invited or waiting sign-up in the role, by its counts; call with it locked."""
    confirmed, invited, waitlisted = role.confirmed_count, role.invited_count, role.waitlisted_count
    if not (confirmed or invited or waitlisted):
        return
    raise Conflict(
        f"岗位「{role.name}」还有{confirmed}人已确认、{invited}人待答复邀请、{waitlisted}人候补；"
        "请先把他们调到其他岗位或取消报名，再删除该岗位",
        f"Role {role.name!r} still has {confirmed} confirmed, {invited} invited and {waitlisted} "
        "waitlisted sign-ups; move them to another role or cancel them before removing it",
        code="role_has_signups",
        details={"role_id": role.id, "confirmed": confirmed, "invited": invited, "waitlisted": waitlisted},
    )


async def role_names(session: AsyncSession, event: Event, role_ids: Iterable[int]) -> dict[int, str]:
    """Names of the roles of ``event``'s sign-ups ``role_ids``, removed roles included: a sign-up
    that ended in a role later removed still names it. Reads only when a removed role is asked for."""
    names = {role.id: role.name for role in event.roles}
    missing = sorted(set(role_ids) - names.keys())
    if missing:
        rows = await session.execute(select(EventRole.id, EventRole.name).where(EventRole.id.in_(missing)))
        names.update({role_id: name for role_id, name in rows})
    return names
