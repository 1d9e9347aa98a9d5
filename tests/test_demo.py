"""``coordinator demo``: the documented counts, the sign-up invariants, valid personal data, a quiet
history, and a second run that changes nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from coordinator.attendance.models import Attendance, AttendanceStatus, ServiceRecord
from coordinator.auth.login import log_in
from coordinator.auth.models import Role, User, UserStation
from coordinator.bus.models import OutboxEvent
from coordinator.cli import app as cli
from coordinator.clock import FixedClock
from coordinator.composition import Runtime
from coordinator.db import create_engine, create_sessionmaker
from coordinator.demo.activities import DemoWindow
from coordinator.demo.catalog import STATIONS
from coordinator.demo.loader import DEMO_PASSWORD, DemoResult, load_demo
from coordinator.demo.rows import build_station_rows
from coordinator.events.models import Event, EventRole, EventSeries, EventStatus, Signup, SignupStatus
from coordinator.events.series.materialize import materialize_all
from coordinator.events.series.recurrence import series_dates
from coordinator.models import Base
from coordinator.people.birthdays import validate_birthday
from coordinator.people.field_rules import normalize_id_number, normalize_phone
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow
from coordinator.people.vocabulary import ResidentCategory
from coordinator.settings import Settings
from coordinator.stations.models import Organization, Station
from coordinator.stats.queries import recount
from coordinator.stats.service import Selection, participation
from coordinator.visits.models import VisitStop
from tests.conftest import START

ZONE = ZoneInfo("Asia/Shanghai")
LIVE = (SignupStatus.confirmed, SignupStatus.waitlisted)
ATTENDED = (AttendanceStatus.present, AttendanceStatus.late)
Maker = async_sessionmaker[AsyncSession]


async def _load(sessionmaker: Maker, clock: FixedClock, seed: int = 7) -> DemoResult:
    async with sessionmaker() as session, session.begin():
        return await load_demo(session, clock, seed=seed)


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_demo_loads_the_documented_stations_people_and_ledger(
    sessionmaker: Maker, clock: FixedClock
) -> None:
    result = await _load(sessionmaker, clock)
    assert result.created == [s.code for s in STATIONS]
    async with sessionmaker() as session:
        assert await _count(session, Station) == 4
        assert await _count(session, Organization) == 17
        assert await _count(session, Person) == 200
        assert await _count(session, Person, Person.is_party_member) == 60
        assert await _count(session, Person, Person.is_social_worker) == 12
        assert await _count(session, Person, Person.is_party_member, Person.party_branch.is_(None)) == 0
        assert await _count(session, Resident) == 960
        speakers = Counter(
            (await session.scalars(select(PersonTerm.code).where(PersonTerm.kind == "language"))).all()
        )
        assert speakers["mandarin"] == 200
        assert speakers["miao"] >= 60
        assert speakers["dong"] >= 5
        categories = Counter((await session.scalars(select(ResidentCategoryRow.category))).all())
        assert set(categories) == {c.value for c in ResidentCategory}
        assert await _count(session, Resident, Resident.birthday_is_lunar) >= 100
        users = (await session.execute(select(User.username, User.role))).all()
        assert len(users) == 11  # the admin, two per station, the county's and the province's bureau
        assert ("admin", Role.admin) in users
        assert await _count(session, UserStation) == 8
    admin = await log_in(
        sessionmaker=sessionmaker,
        clock=clock,
        settings=Settings(),
        username="admin",
        password=DEMO_PASSWORD,
        address="127.0.0.1",
    )
    assert admin.role == Role.admin


async def test_demo_calendar_spans_the_year_around_now_and_only_upcoming_events_are_announced(
    sessionmaker: Maker, clock: FixedClock
) -> None:
    await _load(sessionmaker, clock)
    now = clock.now()
    async with sessionmaker() as session:
        events = (await session.scalars(select(Event))).all()
        roles = (await session.scalars(select(EventRole))).all()
        outbox = (await session.scalars(select(OutboxEvent))).all()
        rounds = set(await session.scalars(select(VisitStop.event_id)))
    per_theme = Counter(e.theme for e in events)
    # 12 months × 4 stations of birthday parties and drives; 7 festivals (春节 … 腊八) each.
    assert per_theme["birthday_party"] == 48
    assert per_theme["party_volunteer_drive"] == 48
    assert per_theme["festival_visit"] == 28
    assert per_theme["home_visit"] >= 160
    assert per_theme["heritage"] >= 60
    local_days = {e.starts_at.astimezone(ZONE).date() for e in events if e.theme == "festival_visit"}
    assert {d.isoformat() for d in local_days} >= {"2026-02-17", "2026-06-19", "2026-09-25", "2026-10-18"}
    assert min(e.starts_at for e in events) >= now - timedelta(days=305)
    assert max(e.starts_at for e in events) <= now + timedelta(days=65)
    for event in events:
        if event.status == EventStatus.completed:
            assert event.ends_at <= now
            assert event.completed_at is not None
        elif event.status == EventStatus.published:
            assert event.ends_at > now
        else:
            assert event.status == EventStatus.cancelled
            assert event.cancelled_at is not None
        assert event.created_at <= (event.published_at or now) <= now
    assert 0 < Counter(e.status for e in events)[EventStatus.cancelled] <= len(events) * 0.06
    visits = [e for e in events if e.theme == "home_visit" and e.id not in rounds]
    # Each home visit (besides the planned rounds to named residents) focuses on one ledger category.
    assert {e.title for e in visits} == {
        "入户走访·低保户",
        "入户走访·特困人员",
        "入户走访·空巢老人",
        "入户走访·困境儿童",
        "入户走访·残疾人",
    }
    assert all(len(e.target_categories) == 1 for e in visits)
    capacity: defaultdict[int, int] = defaultdict(int)
    for role in roles:
        capacity[role.event_id] += role.count
    assert all(e.capacity == capacity[e.id] for e in events)
    # The history is quiet: only the upcoming published events are announced (for reminders).
    upcoming = {e.id for e in events if e.status == EventStatus.published and e.starts_at > now}
    assert upcoming
    published = [o for o in outbox if o.event_type == "EventPublished"]
    assert sorted(o.aggregate_id for o in published) == sorted(upcoming)
    assert all(o.payload["event_id"] == o.aggregate_id for o in published)
    # The planned rounds of home visits went through the services: created, then visitors confirmed.
    assert {o.event_type for o in outbox} == {"EventPublished", "EventCreated", "SignupConfirmed"}
    assert {o.aggregate_id for o in outbox if o.event_type == "EventCreated"} == rounds


async def test_demo_signups_obey_every_signup_rule(sessionmaker: Maker, clock: FixedClock) -> None:
    await _load(sessionmaker, clock)
    async with sessionmaker() as session:
        events = {e.id: e for e in (await session.scalars(select(Event))).all()}
        roles = {r.id: r for r in (await session.scalars(select(EventRole))).all()}
        people = {p.id: p for p in (await session.scalars(select(Person))).all()}
        terms = (await session.execute(select(PersonTerm.person_id, PersonTerm.kind, PersonTerm.code))).all()
        signups = (await session.scalars(select(Signup))).all()
    skills: defaultdict[int, set[str]] = defaultdict(set)
    languages: defaultdict[int, set[str]] = defaultdict(set)
    for person_id, kind, code in terms:
        (skills if kind == "skill" else languages)[person_id].add(code)
    live = [s for s in signups if s.status in LIVE]
    assert Counter(s.status for s in signups)[SignupStatus.confirmed] > 1500
    confirmed = Counter(s.role_id for s in live if s.status == SignupStatus.confirmed)
    waiting: defaultdict[int, list[int]] = defaultdict(list)
    for s in live:
        if s.status == SignupStatus.waitlisted:
            waiting[s.role_id].append(s.waitlist_seq or 0)
    for role in roles.values():
        assert role.confirmed_count == confirmed[role.id] <= role.count
        assert role.waitlisted_count == len(waiting[role.id])
        assert sorted(waiting[role.id]) == list(range(1, role.next_waitlist_seq))
    assert len({(s.event_id, s.person_id) for s in live}) == len(live)  # one live sign-up each
    spans: defaultdict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    per_month: Counter[tuple[int, str]] = Counter()
    for s in live:
        event, role, person = events[s.event_id], roles[s.role_id], people[s.person_id]
        assert role.event_id == event.id
        # a region's training course gathers trainees of several stations at its host station
        assert person.station_id == event.station_id or event.theme == "training"
        assert not role.party_members_only or person.is_party_member
        assert set(role.skills) <= skills[person.id]
        if "translation" in role.skills:
            assert languages[person.id] & {"miao", "dong"}
        assert s.created_at <= clock.now()
        assert s.created_at < event.starts_at
        spans[person.id].append((event.starts_at, event.ends_at))
        per_month[(person.id, f"{event.starts_at.astimezone(ZONE):%Y-%m}")] += 1
    for intervals in spans.values():  # never double-booked
        intervals.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(intervals))
    for (person_id, _), count in per_month.items():
        limit = people[person_id].max_events_per_month
        assert limit is None or count <= limit


async def test_demo_phones_id_numbers_and_birthdays_are_valid(sessionmaker: Maker, clock: FixedClock) -> None:
    await _load(sessionmaker, clock)
    async with sessionmaker() as session:
        people = (await session.execute(select(Person.station_id, Person.phone))).all()
        # By birth year: lunar-python recomputes a lunar year whenever the year changes.
        residents = (await session.scalars(select(Resident).order_by(Resident.birth_year))).all()
    assert all(normalize_phone(phone) == phone for _, phone in people)
    assert len(set(people)) == len(people)  # unique per station (and, here, overall)
    for resident in residents:
        if resident.phone is not None:
            assert normalize_phone(resident.phone) == resident.phone
        if resident.id_number is not None:
            assert normalize_id_number(resident.id_number) == resident.id_number
        assert resident.birth_month is not None
        assert resident.birth_day is not None
        validate_birthday(
            year=resident.birth_year,
            month=resident.birth_month,
            day=resident.birth_day,
            is_lunar=resident.birthday_is_lunar,
            leap_month=resident.birthday_leap_month,
        )
    assert sum(r.id_number is not None for r in residents) >= 850


async def test_demo_records_attendance_of_completed_events_only(
    sessionmaker: Maker, clock: FixedClock
) -> None:
    await _load(sessionmaker, clock)
    async with sessionmaker() as session:
        rows = (
            await session.execute(select(Attendance, Event).join(Event, Event.id == Attendance.event_id))
        ).all()
        confirmed_past = await _count(
            session,
            Signup.__table__.join(Event.__table__, Event.id == Signup.event_id),
            Signup.status == SignupStatus.confirmed,
            Event.status == EventStatus.completed,
        )
        served = (
            await session.execute(
                select(Resident.station_id, Event.station_id)
                .join(ServiceRecord, ServiceRecord.resident_id == Resident.id)
                .join(Event, Event.id == ServiceRecord.event_id)
            )
        ).all()
    assert len(rows) == confirmed_past
    came = [a for a, _ in rows if a.status in ATTENDED]
    assert 0.78 <= len(came) / len(rows) <= 0.92
    assert any(a.status == AttendanceStatus.late for a in came)
    assert any(a.status == AttendanceStatus.no_show for a, _ in rows)
    for attendance, event in rows:
        assert event.status == EventStatus.completed
        assert 0 <= attendance.minutes <= (event.ends_at - event.starts_at).total_seconds() // 60
        assert (attendance.minutes > 0) == (attendance.status in ATTENDED)
    assert served
    assert all(resident == event for resident, event in served)


async def test_demo_dashboard_is_answered_from_rollups_equal_to_the_recount(
    sessionmaker: Maker, clock: FixedClock, runtime: Runtime
) -> None:
    await _load(sessionmaker, clock)
    await runtime.relay.drain()  # the upcoming activities' EventPublished: roll-ups answer once delivered
    year = clock.now().astimezone(ZONE).year
    selection = Selection(
        station_ids=None, first=date(year, 1, 1), last=date(year, 12, 31), group_by=("month", "theme")
    )
    async with sessionmaker() as session:
        dashboard = await participation(session, selection)
        plain = await recount(
            session, station_ids=None, first=selection.first, last=selection.last, group_by=selection.group_by
        )
    assert dashboard.source == "rollup"
    assert dashboard.totals.person_times > 0
    assert dashboard.rows == plain.rows
    assert dashboard.totals == plain.totals


async def test_series_occurrences_match_their_rules_and_the_tick_carries_them_on(
    sessionmaker: Maker, clock: FixedClock, settings: Settings
) -> None:
    await _load(sessionmaker, clock)
    window = DemoWindow.around(clock.now(), ZONE)
    async with sessionmaker() as session:
        series = (await session.scalars(select(EventSeries))).all()
        keys = (await session.execute(select(Event.series_id, Event.occurrence_key))).all()
    assert len(series) == 4 * 9  # birthday parties, drives and seven festivals per station
    by_series: defaultdict[int | None, list[str | None]] = defaultdict(list)
    for series_id, key in keys:
        by_series[series_id].append(key)
    for one in series:
        rule = series_dates(
            rrule_text=one.rrule,
            festival=one.festival,
            starts_on=one.starts_on,
            until=None,
            start=window.first,
            end=window.last,
        )
        assert sorted(str(k) for k in by_series[one.id]) == [d.isoformat() for d in rule]
    created = await materialize_all(sessionmaker=sessionmaker, clock=clock, settings=settings)
    async with sessionmaker() as session:
        made = (
            await session.scalars(
                select(Event).where(Event.created_at == clock.now(), Event.series_id.is_not(None))
            )
        ).all()
    # Only occurrences past the demo's last day are new (春节 2027, February's party and drive …).
    assert created == len(made) > 0
    assert all(e.starts_at.astimezone(ZONE).date() > window.last for e in made)
    assert all(e.status == EventStatus.published for e in made)


async def _snapshot(sessionmaker: Maker) -> dict[str, int]:
    async with sessionmaker() as session:
        return {t.name: await _count(session, t) for t in Base.metadata.sorted_tables}


async def test_second_run_changes_nothing(sessionmaker: Maker, clock: FixedClock) -> None:
    first = await _load(sessionmaker, clock)
    before = await _snapshot(sessionmaker)
    clock.set(clock.now() + timedelta(days=3))  # a later run, even, adds nothing
    second = await _load(sessionmaker, clock)
    assert second.created == []
    assert second.logins == []
    assert not second.counts
    assert second.skipped == first.created
    assert await _snapshot(sessionmaker) == before


def test_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    window = DemoWindow.around(START, ZONE)
    one, two = (build_station_rows(STATIONS[0], seed=1, window=window) for _ in range(2))
    other = build_station_rows(STATIONS[0], seed=2, window=window)
    assert one.people(1) == two.people(1)
    assert one.residents(1) == two.residents(1)
    assert one.staffing.signups == two.staffing.signups
    assert one.people(1) != other.people(1)


runner = CliRunner()


async def _station_count(url: str) -> int:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        count = await _count(session, Station)
    await engine.dispose()
    return count


def test_cli_demo_if_empty_loads_once_and_prints_the_logins(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    monkeypatch.delenv("COORDINATOR_SECRET_KEY", raising=False)
    first = runner.invoke(cli, ["demo", "--if-empty", "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert "yingpanpo-organizer" in first.output
    assert DEMO_PASSWORD in first.output
    again = runner.invoke(cli, ["demo", "--if-empty"])
    assert again.exit_code == 0
    assert "skipped" in again.output
    assert asyncio.run(_station_count(database_url)) == 4


def test_cli_demo_refuses_production_settings_unless_forced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    monkeypatch.setenv("COORDINATOR_SECRET_KEY", "a-real-production-secret-0123456789")
    monkeypatch.setenv("COORDINATOR_DEBUG", "false")
    refused = runner.invoke(cli, ["demo"])
    assert refused.exit_code == 1
    skipped = runner.invoke(cli, ["demo", "--if-empty"])
    assert skipped.exit_code == 0
    assert asyncio.run(_station_count(database_url)) == 0
