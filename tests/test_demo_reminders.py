"""What ``make run`` shows: the demo loaded as ``coordinator demo`` loads it, then the scheduler's
ticks (relay, dispatcher …) over the next two days with the development settings print each due
reminder of the demo's upcoming activities once, on the console channel, when due, outside the
volunteer's quiet hours, with the phone masked — on SQLite and PostgreSQL.

Quiet hours are each volunteer's own: most demo volunteers keep 22:00–08:00, some 21:00–07:00 or
21:30–07:30, so a reminder at 07:00 is right for some of them."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.demo.command import run_demo
from coordinator.demo.loader import DEFAULT_SEED
from coordinator.events.durations import parse_offset
from coordinator.events.models import Event, EventStatus, Signup, SignupStatus
from coordinator.notify.channels import ConsoleChannel
from coordinator.notify.models import Notification, NotificationReason, NotificationStatus
from coordinator.people.models import Person
from coordinator.scheduler.jobs import Tick
from coordinator.settings import Settings
from tests.conftest import START, records

ZONE = ZoneInfo("Asia/Shanghai")
Maker = async_sessionmaker[AsyncSession]
# Thursday 10 December, 22:30 in Kaili: inside quiet hours, as a `make run` started at night.
# The two days ahead hold the second-Saturday Party drive at 09:00, whose two-hour reminder is
# due at 07:00, inside most volunteers' quiet hours.
LOADED_AT = START + timedelta(days=11, hours=12, minutes=30)
WINDOW = timedelta(days=2)
STEP = timedelta(minutes=15)
CLEAR_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# By demo activity, the (sign-up, offset) pairs of its reminders.
Plans = dict[int, set[tuple[int, str]]]


@dataclass(frozen=True)
class Printed:
    at: datetime  # the clock when a tick printed it
    line: dict[str, Any]


async def _load_demo_as_the_command_does(settings: Settings, clock: FixedClock) -> None:
    quiet = Console(file=io.StringIO())
    result = await run_demo(settings, seed=DEFAULT_SEED, if_empty=True, console=quiet, clock=clock)
    assert result is not None
    assert result.created


async def _run_scheduler(
    ticks: Sequence[Tick], maker: Maker, clock: FixedClock, settings: Settings, log: io.StringIO
) -> list[Printed]:
    """Each tick at its interval (the ones of a few seconds once a step) from now to the window's
    end, the clock moving by ``STEP``; answers the console lines each step printed."""
    end = clock.now() + WINDOW
    last_run: dict[str, datetime] = {}
    printed: list[Printed] = []
    seen = 0
    while clock.now() <= end:
        for tick in ticks:
            if _is_due(tick, last_run, clock.now(), settings):
                await tick.run(sessionmaker=maker, clock=clock, settings=settings)
                last_run[tick.name] = clock.now()
        lines = records(log)
        printed += [Printed(clock.now(), line) for line in lines[seen:] if line["event"] == "console_message"]
        seen = len(lines)
        clock.set(clock.now() + STEP)
    return printed


def _is_due(tick: Tick, last_run: dict[str, datetime], now: datetime, settings: Settings) -> bool:
    previous = last_run.get(tick.name)
    return previous is None or now - previous >= timedelta(seconds=tick.interval(settings))


def _inside_quiet_hours(instant: datetime, start: str, end: str) -> bool:
    local = instant.astimezone(ZONE).time()
    begins, ends = time.fromisoformat(start), time.fromisoformat(end)
    if begins <= ends:
        return begins <= local < ends
    return local >= begins or local < ends  # wraps past midnight, e.g. 22:00–08:00


async def _expected_plans(maker: Maker, now: datetime) -> Plans:
    """A reminder for each confirmed place of an upcoming published activity at each of its
    offsets still ahead; none for the other activities."""
    async with maker() as session:
        events = (await session.scalars(select(Event))).all()
        confirmed = (
            await session.execute(
                select(Signup.event_id, Signup.id).where(Signup.status == SignupStatus.confirmed)
            )
        ).all()
    plans: Plans = {event.id: set() for event in events}
    upcoming = {e.id: e for e in events if e.status == EventStatus.published and e.starts_at > now}
    for event_id, signup_id in confirmed:
        event = upcoming.get(event_id)
        if event is not None:
            plans[event_id] |= {
                (signup_id, offset)
                for offset in event.reminder_offsets
                if event.starts_at - parse_offset(offset) > now
            }
    return plans


async def _reminders(maker: Maker) -> dict[int, Notification]:
    async with maker() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.reason == NotificationReason.reminder)
        )
        return {row.id: row for row in rows}


def _planned(reminders: dict[int, Notification], demo_events: Plans) -> Plans:
    # The series tick adds activities past the demo's last day; only the demo's own are compared.
    plans: Plans = {event_id: set() for event_id in demo_events}
    for row in reminders.values():
        if row.event_id in plans:
            plans[row.event_id].add((row.signup_id or 0, row.offset))
    return plans


async def _events_and_people(
    maker: Maker, rows: list[Notification]
) -> tuple[dict[int, Event], dict[int, Person]]:
    async with maker() as session:
        events = await session.scalars(select(Event).where(Event.id.in_({r.event_id for r in rows})))
        people = await session.scalars(select(Person).where(Person.id.in_({r.person_id for r in rows})))
        return {e.id: e for e in events}, {p.id: p for p in people}


# "如有变动请联系138****1234": the organizer's phone, masked like every phone in the log.
ORGANIZER_TO_CALL = re.compile(r"请联系(组织者：)?\d{3}\*{4}\d{4}")


def _masked(phone: str) -> str:
    national = phone.removeprefix("+86")
    return f"{national[:3]}****{national[-4:]}"


async def test_make_run_prints_each_due_reminder_of_the_demo_once_outside_quiet_hours_phones_masked(
    runtime: Runtime, sessionmaker: Maker, settings: Settings, clock: FixedClock, captured: io.StringIO
) -> None:
    clock.set(LOADED_AT)  # the app's clock: the relay tick runs the app's relay
    await _load_demo_as_the_command_does(settings, clock)
    expected = await _expected_plans(sessionmaker, LOADED_AT)

    printed = await _run_scheduler(runtime.scheduler.ticks, sessionmaker, clock, settings, captured)

    # The runtime's channels, built from the settings as in ``serve``.
    assert isinstance(runtime.channels["sms"], ConsoleChannel)  # development: SMS goes to the console
    reminders = await _reminders(sessionmaker)
    assert _planned(reminders, expected) == expected
    # None planned into the past, nor past its activity's start.
    assert all(r.deadline is not None and LOADED_AT < r.due_at < r.deadline for r in reminders.values())

    # Each reminder due in the window printed once, at the first tick after it fell due; the
    # later ones still wait.
    due = [r for r in reminders.values() if r.due_at <= LOADED_AT + WINDOW]
    assert due
    assert Counter(p.line["notification_id"] for p in printed) == Counter(r.id for r in due)
    assert all(r.status == NotificationStatus.sent for r in due)
    assert all(r.status == NotificationStatus.pending for r in set(reminders.values()) - set(due))
    events, people = await _events_and_people(sessionmaker, due)
    # The day-before reminder asks to confirm or release the place; the later one only reminds.
    assert {p.line["template"] for p in printed} == {"reminder", "reminder_confirm"}
    assert len({e.station_id for e in events.values()}) > 1
    pulled_ahead_of_quiet_hours = 0
    for p in printed:
        row = reminders[p.line["notification_id"]]
        assert row.event_id is not None
        event, person = events[row.event_id], people[row.person_id]
        assert row.due_at <= p.at < row.due_at + STEP
        assert (row.signup_id, row.offset) in expected[event.id]  # an upcoming demo activity's
        assert event.title in p.line["text"]
        if p.line["template"] == "reminder":  # (the confirm-or-release one has its link instead)
            assert ORGANIZER_TO_CALL.search(p.line["text"]), p.line["text"]
        assert (p.line["channel"], p.line["recipient"]) == ("sms", _masked(person.phone))
        assert not _inside_quiet_hours(p.at, person.quiet_hours_start, person.quiet_hours_end)
        nominal = event.starts_at - parse_offset(row.offset)
        pulled_ahead_of_quiet_hours += _inside_quiet_hours(
            nominal, person.quiet_hours_start, person.quiet_hours_end
        )
    assert pulled_ahead_of_quiet_hours  # the quiet-hours rule was met, not merely never needed
    assert not CLEAR_MOBILE.search(captured.getvalue())
