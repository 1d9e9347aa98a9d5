"""``coordinator demo``: load the demo stations into the database, in bulk, in one transaction.

- Deterministic: each station draws from its own random stream seeded by ``seed`` and its code.
- Idempotent, keyed by station code: a demo station that exists is left alone (with everything
  of it), so a second run changes nothing; the admin login is keyed by its username.
- Fast: bulk Core ``insert()`` of plain mappings (``RETURNING`` the new ids where later rows refer
  to them), not ORM objects one by one.
- Quiet: the history is stored without domain events, so nobody is reminded of the past; each
  upcoming published activity gets its ``EventPublished``, which plans its confirmed reminders."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.models import Attendance, ServiceHeadcount, ServiceRecord
from coordinator.auth.models import Role, User, UserStation
from coordinator.bus.models import OutboxEvent
from coordinator.clock import Clock
from coordinator.db import Base
from coordinator.demo.activities import DemoWindow
from coordinator.demo.catalog import STATIONS, DemoStation
from coordinator.demo.province import load_province
from coordinator.demo.rows import Row, StationRows, build_station_rows, station_rng
from coordinator.demo.training import load_training_demo
from coordinator.demo.visits import load_station_visits
from coordinator.events.models import Event, EventRole, EventSeries, Signup
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow
from coordinator.security import hash_password
from coordinator.settings import Settings
from coordinator.stations.models import Organization, Station
from coordinator.stats.rebuild import rebuild as rebuild_rollups

DEFAULT_SEED = 2026
# Printed by the command and listed in the README: demo logins are for trying the service only.
DEMO_PASSWORD = "coordinator-demo"  # noqa: S105  (a documented demo login, never production)
ADMIN_USERNAME = "admin"
ZONE = ZoneInfo("Asia/Shanghai")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    station: str | None  # the station's or the region's name; None for the admin


@dataclass
class DemoResult:
    created: list[str] = field(default_factory=list)  # codes of the stations loaded now
    skipped: list[str] = field(default_factory=list)  # codes already present
    logins: list[DemoLogin] = field(default_factory=list)  # accounts created now
    counts: Counter[str] = field(default_factory=Counter)  # rows inserted, by table


def station_usernames(station: DemoStation) -> dict[Role, str]:
    short = station.code.removeprefix("kl-")
    return {Role.station_head: f"{short}-head", Role.organizer: f"{short}-organizer"}


async def database_has_stations(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Station)))


async def load_demo(
    session: AsyncSession,
    clock: Clock,
    *,
    seed: int = DEFAULT_SEED,
    stations: Sequence[DemoStation] = STATIONS,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> DemoResult:
    """Insert the demo stations that are missing (the caller commits). ``progress(step, done, total)``."""
    result = DemoResult()
    codes = [s.code for s in stations]
    present = set(await session.scalars(select(Station.code).where(Station.code.in_(codes))))
    missing = [s for s in stations if s.code not in present]
    result.skipped = [s.code for s in stations if s.code in present]
    window = DemoWindow.around(clock.now(), ZONE)
    total = 1 + len(missing) * len(_STEPS)
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(label, done, total)

    has_admin = await session.scalar(select(User.id).where(User.username == ADMIN_USERNAME)) is not None
    password_hash = hash_password(DEMO_PASSWORD)  # one slow hash for every demo login
    if not has_admin:
        await _bulk(
            session, User, [_user_row(ADMIN_USERNAME, Role.admin, password_hash, clock.now())], result.counts
        )
        result.logins.append(DemoLogin(ADMIN_USERNAME, Role.admin, None))
    step("管理员 / admin")
    for station in missing:
        rows = build_station_rows(station, seed=seed, window=window)
        station_id, organizer = await _load_station(
            session, clock, station, rows, password_hash, result, step
        )
        await load_station_visits(
            session,
            clock,
            settings or Settings(),
            station=await session.get_one(Station, station_id),
            organizer_user_id=organizer,
            rng=station_rng(seed, station, "visits"),
            counts=result.counts,
        )
        step(f"{station.short_name} · {_STEPS[-1]}")
        result.created.append(station.code)
    for username, region in (await load_province(session, clock.now(), password_hash, result.counts)).items():
        result.logins.append(DemoLogin(username, Role.organizer, region))
    if missing:
        # After the province: the first course is the county's, with trainees of several stations.
        result.counts.update(await load_training_demo(session, clock))
    if missing or result.counts["stations placed"]:
        # The history is stored without domain events (they would plan reminders for the past), so
        # the statistics roll-ups are rebuilt from the rows instead of fed by the bus.
        await rebuild_rollups(session)
    return result


async def _link_organizer(
    session: AsyncSession, organizer: int, person_ids: list[int], rows: StationRows
) -> None:
    """The organizer's login is one of the station's social workers: reminders then name a phone
    to call ("如有变动，请联系组织者：…"), as they do for a real station's organizer."""
    social_workers = (pid for pid, p in zip(person_ids, rows.volunteers, strict=True) if p.is_social_worker)
    person_id = next(social_workers, None)
    if person_id is not None:
        await session.execute(update(User).where(User.id == organizer).values(person_id=person_id))


def _user_row(username: str, role: Role, password_hash: str, now: datetime) -> dict[str, Any]:
    return {
        "username": username,
        "password_hash": password_hash,
        "role": role,
        "person_id": None,
        "is_active": True,
        "created_at": now,
    }


_STEPS = (
    "服务站 / station",
    "志愿者 / volunteers",
    "台账 / residents",
    "活动 / activities",
    "报名 / sign-ups",
    "考勤 / attendance",
    "入户走访 / home visits",
)


async def _load_station(
    session: AsyncSession,
    clock: Clock,
    station: DemoStation,
    rows: StationRows,
    password_hash: str,
    result: DemoResult,
    step: Callable[[str], None],
) -> tuple[int, int]:
    """Answers the station's id and its organizer's user id."""
    counts = result.counts
    label = station.short_name
    (station_id,) = await _ids(session, Station, [rows.station], counts)
    org_ids = await _ids(session, Organization, rows.organizations(station_id), counts)
    users = await _load_users(session, station, station_id, password_hash, clock.now(), result)
    organizer = users[Role.organizer]
    step(f"{label} · {_STEPS[0]}")

    person_ids = await _ids(session, Person, rows.people(station_id), counts)
    await _bulk(session, PersonTerm, rows.person_terms(person_ids), counts)
    await _link_organizer(session, organizer, person_ids, rows)
    step(f"{label} · {_STEPS[1]}")

    resident_ids = await _ids(session, Resident, rows.residents(station_id), counts)
    await _bulk(session, ResidentCategoryRow, rows.resident_categories(resident_ids), counts)
    step(f"{label} · {_STEPS[2]}")

    series_rows, series_keys = rows.series(station_id, org_ids)
    series_ids = dict(zip(series_keys, await _ids(session, EventSeries, series_rows, counts), strict=True))
    event_ids = await _ids(session, Event, rows.events(station_id, org_ids, organizer, series_ids), counts)
    role_rows, role_keys = rows.roles(event_ids)
    role_ids = dict(zip(role_keys, await _ids(session, EventRole, role_rows, counts), strict=True))
    step(f"{label} · {_STEPS[3]}")

    await _bulk(session, Signup, rows.signups(event_ids, role_ids, person_ids), counts)
    await _bulk(session, OutboxEvent, rows.outbox(station_id, event_ids, clock.now()), counts)
    step(f"{label} · {_STEPS[4]}")

    await _bulk(session, Attendance, rows.attendance(station_id, event_ids, person_ids, organizer), counts)
    served = rows.service_records(station_id, event_ids, resident_ids, organizer)
    await _bulk(session, ServiceRecord, served, counts)
    await _bulk(session, ServiceHeadcount, rows.headcounts(station_id, event_ids, organizer), counts)
    step(f"{label} · {_STEPS[5]}")
    return station_id, organizer


async def _load_users(
    session: AsyncSession,
    station: DemoStation,
    station_id: int,
    password_hash: str,
    now: datetime,
    result: DemoResult,
) -> dict[Role, int]:
    """The station's head and organizer; an account already using the username is left alone."""
    ids: dict[Role, int] = {}
    for role, username in station_usernames(station).items():
        existing = await session.scalar(select(User.id).where(User.username == username))
        if existing is not None:
            ids[role] = existing
            continue
        user_row = _user_row(username, role, password_hash, now)
        (ids[role],) = await _ids(session, User, [user_row], result.counts)
        await _bulk(session, UserStation, [{"user_id": ids[role], "station_id": station_id}], result.counts)
        result.logins.append(DemoLogin(username, role, station.name))
    return ids


async def _ids(session: AsyncSession, model: type[Base], rows: list[Row], counts: Counter[str]) -> list[int]:
    """Insert ``rows`` in bulk and answer their new ids in the same order."""
    if not rows:
        return []
    table = Base.metadata.tables[model.__tablename__]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = [int(i) for i in (await session.scalars(statement, rows)).all()]
    counts[model.__tablename__] += len(ids)
    return ids


async def _bulk(session: AsyncSession, model: type[Base], rows: list[Row], counts: Counter[str]) -> None:
    if rows:
        await session.execute(insert(Base.metadata.tables[model.__tablename__]), rows)
        counts[model.__tablename__] += len(rows)
