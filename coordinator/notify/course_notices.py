"""Bus handlers that tell a person about their place in a training course: an invitation, with
where to answer it, and the organizer's decision on their application.

One plan per enrolment and status (``enrolment:n{enrolment}:{status}``), so a replayed domain
event plans nothing new; the rows go the way of every other message (``planning``, then the
dispatcher), so consent, quiet hours and channel fallback apply as they do to events."""

from __future__ import annotations

from sqlalchemy import select

from coordinator.bus.registry import DeliveredEvent, HandlerContext
from coordinator.events.models import Event, EventStatus
from coordinator.notify import planning
from coordinator.notify.models import Notification, NotificationReason
from coordinator.people.models import Person
from coordinator.training.courses import course_url, organizer_name
from coordinator.training.models import Course, CourseSession, Enrolment, EnrolmentSource, EnrolmentStatus

Reason = NotificationReason

# The facts a person hears of; the others they made themselves (accept, decline, withdraw).
_REASONS = {
    (EnrolmentSource.invitation, EnrolmentStatus.invited): Reason.enrol_invite,
    (EnrolmentSource.application, EnrolmentStatus.enrolled): Reason.enrol_admit,
    (EnrolmentSource.application, EnrolmentStatus.rejected): Reason.enrol_reject,
}


def plan_key(enrolment_id: int, status: str) -> str:
    return f"enrolment:n{enrolment_id}:{status}"


async def tell_enrolment(ctx: HandlerContext, event: DeliveredEvent) -> None:
    """An invitation, an approval or a rejection, told to the person while it still holds."""
    session = ctx.session
    enrolment = await session.get(Enrolment, event.aggregate_id)
    if enrolment is None or enrolment.status != event.payload.get("status"):
        return  # answered or withdrawn before we got to it: nothing stale is sent
    reason = _REASONS.get((EnrolmentSource(enrolment.source), EnrolmentStatus(enrolment.status)))
    person = await session.get(Person, enrolment.person_id)
    course = await session.get(Course, enrolment.course_id)
    if reason is None or person is None or not person.is_active or course is None:
        return
    context = await _course_context(ctx, course, person)
    if reason is Reason.enrol_invite:
        context["link"] = course_url(ctx.settings, course.id)
    # No deadline: the notice stays of use while the course runs (retries end at the attempt cap).
    await planning.add_notification(
        session,
        ctx.clock,
        ctx.settings,
        plan_key=plan_key(enrolment.id, enrolment.status),
        person=person,
        zone=await planning.station_zone(session, person.station_id),
        reason=reason,
        due=ctx.clock.now(),
        deadline=None,
        context=context,
    )


async def drop_unsent_course_invitation(ctx: HandlerContext, event: DeliveredEvent) -> None:
    """An invitation the person answered before its notice went needs no notice any more."""
    await planning.cancel_pending(
        ctx.session,
        ctx.clock,
        Notification.plan_key == plan_key(event.aggregate_id, EnrolmentStatus.invited),
        why="invitation_answered",
    )


async def _course_context(ctx: HandlerContext, course: Course, person: Person) -> dict[str, str]:
    """The course, its organizer and (once scheduled) the time and place of its next session."""
    session = ctx.session
    extra = {"title": course.topic, "organizer": await organizer_name(session, course)}
    phone = await planning.contact_phone(session, ctx.settings, course.created_by)
    upcoming = await session.scalar(
        select(Event)
        .join(CourseSession, CourseSession.event_id == Event.id)
        .where(
            CourseSession.course_id == course.id,
            Event.status == EventStatus.published,
            Event.starts_at > ctx.clock.now(),
        )
        .order_by(Event.starts_at, Event.id)
        .limit(1)
    )
    if upcoming is None:
        return {"name": person.name, "phone": phone, **extra}
    zone = await planning.station_zone(session, upcoming.station_id)
    return planning.EventFacts(upcoming, zone, phone).context(person, **extra)
