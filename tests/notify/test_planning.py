"""Planning through the real bus: sign-ups, reschedules and cancellations make, move and cancel
notifications; replays create nothing new; quiet hours and consent are honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.db import transaction
from coordinator.events import lifecycle
from coordinator.events.models import Event, SignupSource
from coordinator.events.signups.invitations import accept, invite
from coordinator.notify.models import NotificationStatus as Status
from coordinator.settings import Settings
from tests.notify.replay import replay_to_notify_handlers
from tests.world import World

pytestmark = pytest.mark.usefixtures("database_url")


async def _load(session: AsyncSession, event_id: int) -> Event:
    stmt = select(Event).where(Event.id == event_id).options(selectinload(Event.roles))
    return (await session.scalars(stmt.with_for_update())).one()


async def _reschedule(world: World, event: Event, shift: timedelta) -> None:
    async with transaction(world.sessionmaker) as session:
        loaded = await _load(session, event.id)
        await lifecycle.reschedule_event(
            session, world.clock, event=loaded, starts_at=loaded.starts_at + shift
        )


async def _cancel(world: World, event: Event, reason: str = "天气原因") -> None:
    async with transaction(world.sessionmaker) as session:
        loaded = await _load(session, event.id)
        await lifecycle.cancel_event(session, world.clock, event=loaded, reason=reason)


async def test_a_confirmed_signup_gets_a_reminder_at_each_offset(world: World) -> None:
    event = await world.event()  # a week ahead, offsets P1D and PT2H
    person = await world.person()
    await world.sign_up(event, person)
    await world.deliver_events()

    rows = await world.notifications(event_id=event.id)
    assert [(r.reason, r.offset, r.channel, r.status) for r in rows] == [
        ("reminder", "P1D", "sms", Status.pending),
        ("reminder", "PT2H", "sms", Status.pending),
    ]
    assert [r.due_at for r in rows] == [
        event.starts_at - timedelta(days=1),
        event.starts_at - timedelta(hours=2),
    ]
    assert all(r.deadline == event.starts_at for r in rows)
    first = rows[0]
    assert first.idempotency_key == f"reminder:e{event.id}:p{person.id}:s{first.signup_id}:P1D:sms"
    assert first.payload["recipient"] == person.phone
    assert first.payload["params"]["title"] == event.title
    # 10:00 in Kaili on Sunday 6 December.
    assert first.payload["params"]["time"] == "12月6日（周日）10:00"
    assert event.title in first.payload["text"]


async def test_replaying_the_domain_events_creates_nothing_new(world: World, settings: Settings) -> None:
    event = await world.event()
    person = await world.person()
    await world.sign_up(event, person)
    await world.deliver_events()
    before = await world.notifications()

    await replay_to_notify_handlers(world, settings)

    after = await world.notifications()
    assert [(r.id, r.idempotency_key) for r in after] == [(r.id, r.idempotency_key) for r in before]


async def test_offsets_already_past_are_not_planned(world: World) -> None:
    event = await world.event(starts_in=timedelta(hours=20))
    await world.sign_up(event, await world.person())
    await world.deliver_events()
    assert [r.offset for r in await world.notifications(event_id=event.id)] == ["PT2H"]


async def test_rescheduling_moves_pending_reminders_and_tells_people(world: World) -> None:
    event = await world.event()
    person = await world.person()
    await world.sign_up(event, person)
    await world.deliver_events()

    await _reschedule(world, event, timedelta(days=2))
    await world.deliver_events()

    new_start = event.starts_at + timedelta(days=2)
    reminders = await world.notifications(event_id=event.id, reason="reminder")
    assert [(r.offset, r.due_at, r.status) for r in reminders] == [
        ("P1D", new_start - timedelta(days=1), Status.pending),
        ("PT2H", new_start - timedelta(hours=2), Status.pending),
    ]
    assert all(r.deadline == new_start for r in reminders)
    assert reminders[0].payload["params"]["time"] == "12月8日（周二）10:00"
    [changed] = await world.notifications(event_id=event.id, reason="changed")
    assert changed.status == Status.pending
    assert changed.due_at == world.clock.now()
    assert changed.payload["params"]["time"] == "12月8日（周二）10:00"
    assert changed.payload["context"]["old_time"] == "12月6日（周日）10:00"


async def test_cancelling_cancels_reminders_and_sends_an_urgent_notice(world: World) -> None:
    event = await world.event()
    person = await world.person()
    await world.sign_up(event, person)
    await world.deliver_events()
    world.clock.set(datetime(2026, 11, 29, 15, 0, tzinfo=UTC))  # 23:00 in Kaili: quiet hours

    await _cancel(world, event)
    await world.deliver_events()

    reminders = await world.notifications(event_id=event.id, reason="reminder")
    assert {r.status for r in reminders} == {Status.cancelled}
    [notice] = await world.notifications(event_id=event.id, reason="cancelled")
    # Urgent: not held until the morning.
    assert notice.status == Status.pending
    assert notice.due_at == world.clock.now()
    assert "天气原因" not in notice.payload["text"]  # SMS text stays short; email carries the reason


async def test_a_cancelled_signup_cancels_its_reminders(world: World) -> None:
    event = await world.event()
    leaving, staying = await world.person(), await world.person()
    await world.sign_up(event, leaving)
    await world.sign_up(event, staying)
    await world.deliver_events()

    await world.cancel_signup(event, leaving)
    await world.deliver_events()

    assert {r.status for r in await world.notifications(person_id=leaving.id)} == {Status.cancelled}
    assert {r.status for r in await world.notifications(person_id=staying.id)} == {Status.pending}


async def test_promotion_from_the_waitlist_plans_reminders_and_a_notice(world: World) -> None:
    event = await world.event(roles=[{"name": "志愿者", "count": 1}])
    first, waiting = await world.person(), await world.person()
    await world.sign_up(event, first)
    await world.sign_up(event, waiting)
    await world.deliver_events()
    assert await world.notifications(person_id=waiting.id) == []

    await world.cancel_signup(event, first)
    await world.deliver_events()

    rows = await world.notifications(person_id=waiting.id)
    assert sorted((r.reason, r.offset) for r in rows) == [
        ("promoted", ""),
        ("reminder", "P1D"),
        ("reminder", "PT2H"),
    ]


async def test_a_reminder_due_in_quiet_hours_moves_before_them(world: World) -> None:
    # 07:30 on 6 December in Kaili; the 2-hour reminder would fall at 05:30.
    starts = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    event = await world.event(starts_in=starts - world.clock.now())
    await world.sign_up(event, await world.person())
    await world.deliver_events()

    [early] = await world.notifications(event_id=event.id, offset="PT2H")
    assert early.due_at == datetime(2026, 12, 5, 13, 45, tzinfo=UTC)  # 21:45 the evening before


async def test_nobody_reachable_is_recorded_as_skipped(world: World) -> None:
    event = await world.event()
    await world.sign_up(event, await world.person(consent_sms=False))
    await world.deliver_events()

    rows = await world.notifications(event_id=event.id)
    assert {(r.status, r.channel, r.last_error) for r in rows} == {
        (Status.skipped, "none", "no_consented_channel")
    }


async def test_an_invitation_sends_its_answer_link_and_accepting_plans_reminders(
    world: World, settings: Settings
) -> None:
    event = await world.event()
    person = await world.person()
    async with transaction(world.sessionmaker) as session:
        signup, _ = await invite(
            session,
            world.clock,
            settings,
            event_id=event.id,
            person_id=person.id,
            role_id=None,
            source=SignupSource.organizer,
        )
    await world.deliver_events()

    [invited] = await world.notifications(person_id=person.id)
    assert invited.reason == "invited"
    link = invited.payload["params"]["link"]
    assert link.startswith(f"{settings.public_base_url}/web/invitation?token=")
    assert signup.invitation_expires_at is not None
    assert invited.deadline == min(signup.invitation_expires_at, event.starts_at)

    async with transaction(world.sessionmaker) as session:
        await accept(session, world.clock, settings, link.split("token=", 1)[1])
    await world.deliver_events()
    reasons = sorted((r.reason, r.offset) for r in await world.notifications(person_id=person.id))
    assert reasons == [("invited", ""), ("reminder", "P1D"), ("reminder", "PT2H")]
