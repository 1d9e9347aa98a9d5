"""Removing a role from an event, and the names of removed roles for the history that keeps them.

A role goes only when nobody holds or waits for a place in it (no confirmed, invited or
waitlisted sign-up): the organizer moves or cancels those people first, so nobody silently loses
a place. The event keeps at least one role, and a cancelled, completed or started event keeps its
roles.

The row stays, marked ``removed_at``, rather than being deleted: ``signups.role_id`` cascades on
delete, and the role's cancelled, declined and expired sign-ups are history that others read
(stats by role name the role a person attended in from their sign-ups, confirm-or-release answers
hang on the sign-up, people see their past sign-ups). ``Event.roles`` holds only current roles,
and every way to a new sign-up (``signup_target``, ``placing.claim_place``,
``waitlist.claim_arrival``) skips removed ones, so they are not a role of the event anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from coordinator.clock import Clock
from coordinator.errors import Conflict, not_found
from coordinator.events.lifecycle import ensure_changeable
from coordinator.events.models import LIVE_SIGNUP_STATUSES, Event, EventRole, Signup, SignupStatus
from coordinator.events.service import emit_updated, note_change
from coordinator.events.waitlist import lock_role


async def remove_role(session: AsyncSession, clock: Clock, *, event: Event, role_id: int) -> None:
    """Remove a role of ``event``, which the caller loaded with ``for_update=True`` (as for every
    edit: the event row's lock orders this after any other edit of its roles and capacity).

    The invariant "a removed role has no live sign-up" is kept by the role row's lock
    (``waitlist.lock_role``, ``SELECT … FOR UPDATE``), the lock a sign-up takes to claim a place
    (``placing.claim_place``) and holds until it commits. The live sign-ups are counted after
    taking it, so a sign-up that claimed the role first is counted (and the removal refused); a
    sign-up that comes later finds the role removed once the lock is free (its ``UPDATE … WHERE
    removed_at IS NULL`` matches nothing) and is refused as an unknown role. SQLite serializes
    whole transactions, which gives the same answers.

    Like ``PATCH``: a capacity equal to the sum of the counts follows the new sum, a set one stays;
    ``EventUpdated`` names what changed."""
    role = next((r for r in event.roles if r.id == role_id), None)
    if role is None:
        raise not_found("岗位", "role", role_id)
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
    await _check_nobody_holds(session, role)
    follows_counts = event.capacity == sum(r.count for r in event.roles)
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


async def _check_nobody_holds(session: AsyncSession, role: EventRole) -> None:
    """No confirmed, invited or waiting sign-up in the role; call with the role locked."""
    rows = await session.execute(
        select(Signup.status, func.count())
        .where(Signup.role_id == role.id, Signup.status.in_(LIVE_SIGNUP_STATUSES))
        .group_by(Signup.status)
    )
    held = {SignupStatus(status): int(count) for status, count in rows}
    if not held:
        return
    confirmed, invited, waitlisted = (
        held.get(SignupStatus.confirmed, 0),
        held.get(SignupStatus.invited, 0),
        held.get(SignupStatus.waitlisted, 0),
    )
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
