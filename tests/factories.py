"""Small async factories: ``await create_station(session, clock)`` and friends."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User, UserStation
from coordinator.auth.service import issue_access_token
from coordinator.clock import Clock
from coordinator.events.models import Event, EventRole, EventStatus, Signup, SignupSource, SignupStatus
from coordinator.events.service import load_event
from coordinator.events.signups import service as signups
from coordinator.people.models import Person, PersonTerm, Resident, ResidentCategoryRow
from coordinator.security import hash_password
from coordinator.stations.models import Organization, Station

_seq = itertools.count(1)
# Hashing is deliberately slow; factories share one hash so tests stay quick.
PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)


async def create_station(session: AsyncSession, clock: Clock, **fields: Any) -> Station:
    n = next(_seq)
    station = Station(
        **{
            "name": f"测试社工站{n}",
            "code": f"st-{n}",
            "timezone": "Asia/Shanghai",
            "created_at": clock.now(),
            **fields,
        }
    )
    session.add(station)
    await session.flush()
    return station


async def create_organization(
    session: AsyncSession, clock: Clock, station: Station, **fields: Any
) -> Organization:
    organization = Organization(
        **{"station_id": station.id, "name": f"儿童议事会{next(_seq)}", "created_at": clock.now(), **fields}
    )
    session.add(organization)
    await session.flush()
    return organization


async def create_user(
    session: AsyncSession, clock: Clock, role: Role, stations: list[Station] | None = None, **fields: Any
) -> User:
    user = User(
        **{
            "username": f"user{next(_seq)}",
            "password_hash": _PASSWORD_HASH,
            "role": role,
            "is_active": True,
            "created_at": clock.now(),
            **fields,
        }
    )
    session.add(user)
    await session.flush()
    session.add_all(UserStation(user_id=user.id, station_id=s.id) for s in stations or [])
    await session.flush()
    return user


async def create_volunteer_login(
    session: AsyncSession, clock: Clock, person: Person, stations: list[Station] | None = None
) -> User:
    """The account ``person`` logs in with by SMS code (no username), scoped to their own station
    unless ``stations`` says otherwise."""
    user = await create_user(session, clock, Role.volunteer, stations, username=None, person_id=person.id)
    if stations is None:
        session.add(UserStation(user_id=user.id, station_id=person.station_id))
        await session.flush()
    return user


def auth_headers(app: FastAPI, user: User) -> dict[str, str]:
    token = issue_access_token(settings=app.state.settings, clock=app.state.clock, user=user)
    return {"Authorization": f"Bearer {token}"}


def unique_mobile() -> str:
    """A mainland mobile number in E.164 that no other factory call returns."""
    return f"+86138{next(_seq):08d}"


async def create_person(
    session: AsyncSession,
    clock: Clock,
    station: Station,
    *,
    skills: list[str] | None = None,
    languages: list[str] | None = None,
    **fields: Any,
) -> Person:
    person = Person(
        **{
            "station_id": station.id,
            "name": f"志愿者{next(_seq)}",
            "phone": unique_mobile(),
            "created_at": clock.now(),
            "updated_at": clock.now(),
            **fields,
        }
    )
    person.terms = [PersonTerm(kind="skill", code=c) for c in skills or []] + [
        PersonTerm(kind="language", code=c) for c in languages or []
    ]
    session.add(person)
    await session.flush()
    return person


async def create_resident(
    session: AsyncSession,
    clock: Clock,
    station: Station,
    *,
    categories: list[str] | None = None,
    **fields: Any,
) -> Resident:
    resident = Resident(
        **{
            "station_id": station.id,
            "name": f"居民{next(_seq)}",
            "created_at": clock.now(),
            "updated_at": clock.now(),
            **fields,
        }
    )
    resident.category_rows = [ResidentCategoryRow(category=c) for c in categories or ["empty_nest_elderly"]]
    session.add(resident)
    await session.flush()
    return resident


async def create_event(
    session: AsyncSession,
    clock: Clock,
    station: Station,
    *,
    roles: list[dict[str, Any]] | None = None,
    starts_in: timedelta = timedelta(days=7),
    duration: timedelta = timedelta(hours=2),
    **fields: Any,
) -> Event:
    """A published event a week ahead with one role of 5 places unless told otherwise."""
    role_rows = [
        EventRole(position=i, **{"skills": [], "languages": [], "party_members_only": False, **r})
        for i, r in enumerate(roles or [{"name": "志愿者", "count": 5}])
    ]
    starts_at = clock.now() + starts_in
    event = Event(
        **{
            "station_id": station.id,
            "theme": "party_volunteer_drive",
            "title": f"党建志愿服务{next(_seq)}",
            "starts_at": starts_at,
            "ends_at": starts_at + duration,
            "capacity": sum(r.count for r in role_rows),
            "status": EventStatus.published,
            "reminder_offsets": ["P1D", "PT2H"],
            "target_categories": [],
            "sequence": 0,
            "created_at": clock.now(),
            "updated_at": clock.now(),
            "published_at": clock.now(),
            **fields,
        }
    )
    event.roles = role_rows
    session.add(event)
    await session.flush()
    return event


async def create_signup(
    session: AsyncSession,
    clock: Clock,
    event: Event,
    person: Person,
    *,
    role: EventRole | None = None,
    status: SignupStatus = SignupStatus.confirmed,
    **fields: Any,
) -> Signup:
    """A sign-up of ``person`` to ``event`` (its first role unless told), keeping the role's
    counts equal to its confirmed, invited and waiting sign-ups.
    ``event.roles`` must be loaded."""
    role = role or event.roles[0]
    signup = Signup(
        **{
            "event_id": event.id,
            "role_id": role.id,
            "person_id": person.id,
            "status": status,
            "source": SignupSource.organizer,
            "created_at": clock.now(),
            "updated_at": clock.now(),
            "confirmed_at": clock.now() if status is SignupStatus.confirmed else None,
            **fields,
        }
    )
    session.add(signup)
    await session.flush()
    await count_on_role(session, role.id, status)
    return signup


_COUNTERS = {
    SignupStatus.confirmed: EventRole.confirmed_count,
    SignupStatus.invited: EventRole.invited_count,
    SignupStatus.waitlisted: EventRole.waitlisted_count,
}


async def count_on_role(session: AsyncSession, role_id: int, status: SignupStatus) -> None:
    """Count a sign-up of ``status`` on its role's row, as the service does (the role object
    may belong to another session)."""
    if status in _COUNTERS:
        counter = _COUNTERS[status]
        await session.execute(update(EventRole).where(EventRole.id == role_id).values({counter: counter + 1}))


async def sign_up(
    session: AsyncSession,
    clock: Clock,
    *,
    event_id: int,
    person_id: int,
    role_id: int | None = None,
    source: SignupSource = SignupSource.organizer,
) -> Signup:
    """The service's sign-up (every rule and lock), for a test that holds only ids."""
    event, zone = await load_event(session, event_id)
    placed = await signups.sign_up(
        session, clock, event, zone, person_id=person_id, role_id=role_id, source=source
    )
    return placed.signup
