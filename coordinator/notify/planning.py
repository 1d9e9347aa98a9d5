"""Turning domain events into notification rows (the dispatcher sends them later).

Every row is inserted with ``ON CONFLICT DO NOTHING`` on its idempotency key, and a plan that
already has a row on any channel (``plan_key``) is not planned again, so a replayed domain event,
or two events planning the same reminder, create nothing new.

Keys are built from ids and ISO strings only:
``reminder:e{event}:p{person}:s{signup}:{offset}``, ``changed:e…:p…:{new start ISO}``,
``cancelled:e…:p…``, ``promoted:e…:p…:s…``, ``invited:e…:p…:s…``, and for courses
``enrolment:n{enrolment}:{status}`` (``course_notices``); the idempotency key adds ``:{channel}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import User
from coordinator.clock import Clock
from coordinator.db import is_postgres
from coordinator.events.durations import parse_offset
from coordinator.events.models import Event, EventStatus, Signup, SignupStatus
from coordinator.notify import policy
from coordinator.notify.confirmations.links import reminder_extra, reminder_template
from coordinator.notify.metrics import PLANNED
from coordinator.notify.models import (
    URGENT_REASONS,
    Notification,
    NotificationReason,
    NotificationStatus,
)
from coordinator.notify.rendering import local_time, render
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station

Reason = NotificationReason


@dataclass(frozen=True)
class EventFacts:
    event: Event
    zone: ZoneInfo
    contact_phone: str

    def context(self, person: Person, **extra: str) -> dict[str, str]:
        return {
            "name": person.name,
            "title": self.event.title,
            "time": local_time(self.event.starts_at, self.zone),
            "start": self.event.starts_at.astimezone(self.zone).isoformat(),
            "place": self.event.location or "",
            "phone": self.contact_phone,
            **extra,
        }


def national(phone: str) -> str:
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return phone
    return str(number.national_number)


async def station_zone(session: AsyncSession, station_id: int) -> ZoneInfo:
    station = await session.get(Station, station_id)
    return ZoneInfo(station.timezone if station else "Asia/Shanghai")


async def contact_phone(session: AsyncSession, settings: Settings, created_by: int | None) -> str:
    """Whom a message names to call: the organizer who created the thing, if a person stands
    behind their account, else the deployment's contact number."""
    if created_by is not None:
        creator = await session.get(User, created_by)
        if creator is not None and creator.person_id is not None:
            organizer = await session.get(Person, creator.person_id)
            if organizer is not None:
                return national(organizer.phone)
    return settings.notify_contact_phone


async def event_facts(session: AsyncSession, settings: Settings, event_id: int) -> EventFacts | None:
    event = await session.get(Event, event_id)
    if event is None:
        return None
    contact = await contact_phone(session, settings, event.created_by)
    return EventFacts(event=event, zone=await station_zone(session, event.station_id), contact_phone=contact)


async def add_notification(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    plan_key: str,
    person: Person,
    zone: ZoneInfo,
    reason: Reason,
    due: datetime,
    deadline: datetime | None,
    context: dict[str, str],
    event_id: int | None = None,
    signup_id: int | None = None,
    offset: str = "",
    template: str | None = None,
) -> bool:
    """Plan one message on the person's first usable channel; False when already planned.
    ``template`` names the template when it is not the reason's own (``reminder_confirm``)."""
    planned = await session.scalar(select(Notification.id).where(Notification.plan_key == plan_key).limit(1))
    if planned is not None:
        return False
    now = clock.now()
    chain = policy.channel_chain(person, policy.configured_channels(settings, template or reason.value))
    status, error = NotificationStatus.pending, None
    if reason not in URGENT_REASONS:
        moved = policy.outside_quiet_hours(
            due,
            now=now,
            deadline=deadline,
            zone=zone,
            start=person.quiet_hours_start,
            end=person.quiet_hours_end,
        )
        due, status, error = (
            (moved, status, error) if moved else (due, NotificationStatus.skipped, "quiet_hours")
        )
    if not chain:
        status, error = NotificationStatus.skipped, "no_consented_channel"
    channel = chain[0] if chain else "none"
    address = policy.address_for(person, channel) or ""
    values: dict[str, Any] = {
        "idempotency_key": f"{plan_key}:{channel}",
        "plan_key": plan_key,
        "station_id": person.station_id,
        "person_id": person.id,
        "event_id": event_id,
        "signup_id": signup_id,
        "reason": reason.value,
        "offset": offset,
        "channel": channel,
        "fallback_channels": chain[1:],
        "status": status.value,
        "due_at": due,
        "deadline": deadline,
        "attempts": 0,
        "next_attempt_at": due,
        "payload": render(template or reason.value, channel, address, context),
        "last_error": error,
        "created_at": now,
        "updated_at": now,
    }
    created = await insert_once(session, values)
    if created:
        PLANNED.labels(reason.value).inc()
    return created


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> bool:
    # ``offset`` is stored in the column ``reminder_offset`` (OFFSET is an SQL keyword).
    row = {("reminder_offset" if k == "offset" else k): v for k, v in values.items()}
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = dialect_insert(cast(Table, Notification.__table__)).values(row)
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["idempotency_key"]))
    return bool(getattr(result, "rowcount", 0))


async def plan_reminders(
    session: AsyncSession, clock: Clock, settings: Settings, *, facts: EventFacts, signup: Signup
) -> int:
    """A reminder at each of the event's offsets still ahead, for a confirmed sign-up."""
    event = facts.event
    if signup.status != SignupStatus.confirmed or event.status != EventStatus.published:
        return 0
    person = await session.get(Person, signup.person_id)
    if person is None or not person.is_active:
        return 0
    created = 0
    for offset in event.reminder_offsets:
        due = event.starts_at - parse_offset(offset)
        if due <= clock.now():
            continue  # that reminder's moment has passed; a later offset still reminds them
        created += await add_notification(
            session,
            clock,
            settings,
            plan_key=f"reminder:e{event.id}:p{person.id}:s{signup.id}:{offset}",
            person=person,
            zone=facts.zone,
            reason=Reason.reminder,
            due=due,
            deadline=event.starts_at,
            # The day-before reminder asks to confirm or release the place (``confirmations.links``).
            context=facts.context(person, **reminder_extra(settings, event.starts_at, offset, signup.id)),
            event_id=event.id,
            signup_id=signup.id,
            offset=offset,
            template=reminder_template(settings, event.starts_at, offset),
        )
    return created


async def notice(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    facts: EventFacts,
    person_id: int,
    reason: Reason,
    plan_key: str,
    signup_id: int | None = None,
    deadline: datetime | None = None,
    **extra: str,
) -> int:
    """A one-off message about the event, due now (quiet hours permitting)."""
    person = await session.get(Person, person_id)
    event = facts.event
    if person is None or not person.is_active or event.starts_at <= clock.now():
        return 0
    return int(
        await add_notification(
            session,
            clock,
            settings,
            plan_key=plan_key,
            person=person,
            zone=facts.zone,
            reason=reason,
            due=clock.now(),
            deadline=min(deadline, event.starts_at) if deadline else event.starts_at,
            context=facts.context(person, **extra),
            event_id=event.id,
            signup_id=signup_id,
        )
    )


async def confirmed_signups(session: AsyncSession, event_id: int) -> list[Signup]:
    rows = await session.scalars(
        select(Signup)
        .where(Signup.event_id == event_id, Signup.status == SignupStatus.confirmed)
        .order_by(Signup.id)
    )
    return list(rows)


async def cancel_pending(session: AsyncSession, clock: Clock, *conditions: Any, why: str) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.status == NotificationStatus.pending, *conditions)
        .values(status=NotificationStatus.cancelled, last_error=why, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def move_pending_reminders(session: AsyncSession, clock: Clock, *, facts: EventFacts) -> int:
    """Move the event's pending reminders to its new start; those whose moment has passed go."""
    event, now = facts.event, clock.now()
    rows = await session.scalars(
        select(Notification)
        .where(
            Notification.event_id == event.id,
            Notification.reason == Reason.reminder,
            Notification.status == NotificationStatus.pending,
        )
        .with_for_update()
    )
    moved = 0
    for row in rows:
        person = await session.get(Person, row.person_id)
        if person is None:
            continue
        due = event.starts_at - parse_offset(row.offset)
        when = (
            policy.outside_quiet_hours(
                due,
                now=now,
                deadline=event.starts_at,
                zone=facts.zone,
                start=person.quiet_hours_start,
                end=person.quiet_hours_end,
            )
            if due > now
            else None
        )
        row.updated_at = now
        if when is None:
            row.status, row.last_error = NotificationStatus.cancelled, "rescheduled_past"
            continue
        row.due_at = row.next_attempt_at = when
        row.deadline = event.starts_at
        # Keep the confirm-or-release link: it names the sign-up, not the time.
        context = {**row.payload.get("context", {}), **facts.context(person)}
        template = str(row.payload.get("template_key") or row.reason)
        row.payload = render(template, row.channel, row.payload.get("recipient", ""), context)
        moved += 1
    await session.flush()
    return moved
