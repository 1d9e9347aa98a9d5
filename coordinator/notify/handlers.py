"""Bus handlers that plan, move and cancel notifications (see ``planning`` for the rules),
subscribed to their domain events in ``coordinator.composition.build_registry``.

Each handler reloads what it needs by id, so a replay sees current state; all inserts are
idempotent, so delivering a domain event twice creates nothing new.
"""

from __future__ import annotations

from datetime import datetime

from coordinator.bus.registry import DeliveredEvent, HandlerContext
from coordinator.domain_events import DomainEventType
from coordinator.events.models import EventStatus, Signup, SignupStatus
from coordinator.events.signups.invitations import invitation_token, invitation_url
from coordinator.notify import planning
from coordinator.notify.models import Notification, NotificationReason
from coordinator.notify.rendering import local_time

Reason = NotificationReason


def _signup_id(event: DeliveredEvent) -> int:
    value = event.payload.get("signup_id")
    return int(value) if value is not None else event.aggregate_id


def _event_id(event: DeliveredEvent) -> int:
    value = event.payload.get("event_id")
    return int(value) if value is not None else event.aggregate_id


async def _signup_and_facts(
    ctx: HandlerContext, event: DeliveredEvent
) -> tuple[Signup, planning.EventFacts] | None:
    signup = await ctx.session.get(Signup, _signup_id(event))
    if signup is None:
        return None
    facts = await planning.event_facts(ctx.session, ctx.settings, signup.event_id)
    return (signup, facts) if facts is not None else None


async def plan_signup_reminders(ctx: HandlerContext, event: DeliveredEvent) -> None:
    """A confirmed place gets its reminders; a place given from the waitlist is also told."""
    found = await _signup_and_facts(ctx, event)
    if found is None:
        return
    signup, facts = found
    await planning.plan_reminders(ctx.session, ctx.clock, ctx.settings, facts=facts, signup=signup)
    if event.event_type == DomainEventType.signup_promoted:
        await planning.notice(
            ctx.session,
            ctx.clock,
            ctx.settings,
            facts=facts,
            person_id=signup.person_id,
            reason=Reason.promoted,
            plan_key=f"promoted:e{facts.event.id}:p{signup.person_id}:s{signup.id}",
            signup_id=signup.id,
        )


async def plan_event_reminders(ctx: HandlerContext, event: DeliveredEvent) -> None:
    facts = await planning.event_facts(ctx.session, ctx.settings, _event_id(event))
    if facts is None:
        return
    for signup in await planning.confirmed_signups(ctx.session, facts.event.id):
        await planning.plan_reminders(ctx.session, ctx.clock, ctx.settings, facts=facts, signup=signup)


async def move_reminders(ctx: HandlerContext, event: DeliveredEvent) -> None:
    facts = await planning.event_facts(ctx.session, ctx.settings, _event_id(event))
    if facts is None or facts.event.status != EventStatus.published:
        return
    await planning.move_pending_reminders(ctx.session, ctx.clock, facts=facts)
    old = event.payload.get("old_starts_at")
    new = event.payload.get("new_starts_at") or facts.event.starts_at.isoformat()
    old_time = local_time(datetime.fromisoformat(old), facts.zone) if old else ""
    for signup in await planning.confirmed_signups(ctx.session, facts.event.id):
        # Reminders for offsets that were already past before the move may be ahead now.
        await planning.plan_reminders(ctx.session, ctx.clock, ctx.settings, facts=facts, signup=signup)
        await planning.notice(
            ctx.session,
            ctx.clock,
            ctx.settings,
            facts=facts,
            person_id=signup.person_id,
            reason=Reason.changed,
            plan_key=f"changed:e{facts.event.id}:p{signup.person_id}:{new}",
            signup_id=signup.id,
            old_time=old_time,
        )


async def cancel_reminders(ctx: HandlerContext, event: DeliveredEvent) -> None:
    event_id = _event_id(event)
    await planning.cancel_pending(
        ctx.session,
        ctx.clock,
        Notification.event_id == event_id,
        Notification.reason != Reason.cancelled,  # a replay must not cancel the notices themselves
        why="event_cancelled",
    )
    facts = await planning.event_facts(ctx.session, ctx.settings, event_id)
    if facts is None or not event.payload.get("was_published", True):
        return
    # The cancellation leaves sign-ups as they were: the confirmed ones are the people to tell.
    for signup in await planning.confirmed_signups(ctx.session, event_id):
        await planning.notice(
            ctx.session,
            ctx.clock,
            ctx.settings,
            facts=facts,
            person_id=signup.person_id,
            reason=Reason.cancelled,
            plan_key=f"cancelled:e{event_id}:p{signup.person_id}",
            signup_id=signup.id,
            cancel_reason=facts.event.cancel_reason or "",
        )


async def cancel_signup_notifications(ctx: HandlerContext, event: DeliveredEvent) -> None:
    await planning.cancel_pending(
        ctx.session, ctx.clock, Notification.signup_id == _signup_id(event), why="signup_cancelled"
    )


async def send_invitation(ctx: HandlerContext, event: DeliveredEvent) -> None:
    found = await _signup_and_facts(ctx, event)
    if found is None:
        return
    signup, facts = found
    expires = signup.invitation_expires_at
    if signup.status != SignupStatus.invited or expires is None or expires <= ctx.clock.now():
        return  # answered or lapsed before we got to it
    # The payload carries no token (ids and ISO strings only); the link is issued again here.
    token = invitation_token(ctx.settings, signup, now=ctx.clock.now())
    await planning.notice(
        ctx.session,
        ctx.clock,
        ctx.settings,
        facts=facts,
        person_id=signup.person_id,
        reason=Reason.invited,
        plan_key=f"invited:e{facts.event.id}:p{signup.person_id}:s{signup.id}",
        signup_id=signup.id,
        deadline=expires,
        link=invitation_url(ctx.settings, token),
        token=token,
    )


async def drop_unsent_invitation(ctx: HandlerContext, event: DeliveredEvent) -> None:
    await planning.cancel_pending(
        ctx.session,
        ctx.clock,
        Notification.signup_id == _signup_id(event),
        Notification.reason == Reason.invited,
        why="invitation_answered",
    )
