"""The domain events: every fact a service publishes on the bus (``bus.outbox.emit``) and a handler
can subscribe to. The value is what the outbox stores in ``event_type``: never change one."""

from __future__ import annotations

from enum import StrEnum


class DomainEventType(StrEnum):
    # An activity on the calendar.
    event_created = "EventCreated"
    event_published = "EventPublished"
    event_updated = "EventUpdated"
    event_rescheduled = "EventRescheduled"
    event_cancelled = "EventCancelled"
    event_completed = "EventCompleted"
    # A person's place in an event role.
    signup_confirmed = "SignupConfirmed"
    signup_waitlisted = "SignupWaitlisted"
    signup_promoted = "SignupPromoted"
    signup_cancelled = "SignupCancelled"
    invitation_sent = "InvitationSent"
    invitation_answered = "InvitationAnswered"
    # What happened at an event.
    attendance_recorded = "AttendanceRecorded"
    residents_served = "ResidentsServed"
    # A person's place in a training course: invited or applied, then the answer to either.
    enrolment_requested = "EnrolmentRequested"
    enrolment_answered = "EnrolmentAnswered"
    # The registers.
    person_created = "PersonCreated"
    person_updated = "PersonUpdated"
    resident_created = "ResidentCreated"
    resident_updated = "ResidentUpdated"
