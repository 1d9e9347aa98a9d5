"""What a new sign-up reads before it locks anything: the event, its zone and roles, the person
asked for, and for the API the caller's account, in one statement (on the driver: it is the
sign-up's first, see ``driver_sql``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.auth.service import account_select, principal_of
from coordinator.db import plain_instance
from coordinator.driver_sql import DriverStatement, Row
from coordinator.errors import not_found
from coordinator.events.models import Event, EventRole
from coordinator.events.signup_rules import RoleRef
from coordinator.people.models import Person
from coordinator.stations.models import Station

_EVENTS: Table = Event.__table__  # type: ignore[assignment]  # mapped to a Table
_ROLES: Table = EventRole.__table__  # type: ignore[assignment]
_PEOPLE: Table = Person.__table__  # type: ignore[assignment]
_STATIONS: Table = Station.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class SignupTarget:
    """What a new sign-up reads before it locks anything, in one statement: the event (a plain
    instance outside the session, with only ``_EVENT_FIELDS``: read, never changed here), its
    station's time zone, its roles in order, and the person asked for (``person`` None when
    there is no such person)."""

    event: Event
    zone: str
    roles: list[RoleRef]
    person_id: int
    person: PersonRef | None


class PersonRef(NamedTuple):
    id: int
    station_id: int
    name: str


# What a new sign-up reads of its event: what the rules, the writes and the answer use.
_EVENT_FIELDS = ("id", "station_id", "status", "starts_at", "ends_at")
# Removed roles are no role of the event (see ``roles``).
_CURRENT_ROLES = and_(_ROLES.c.event_id == _EVENTS.c.id, _ROLES.c.removed_at.is_(None))
_TARGET_COLUMNS = (
    *(_EVENTS.c[key].label(f"event_{key}") for key in _EVENT_FIELDS),
    _STATIONS.c.timezone,
    _ROLES.c.id.label("role_id"),
    _ROLES.c.name.label("role_name"),
    _PEOPLE.c.id.label("target_id"),
    _PEOPLE.c.station_id.label("target_station_id"),
    _PEOPLE.c.name.label("target_name"),
)
_READ_TARGET = DriverStatement(
    select(*_TARGET_COLUMNS)
    .join_from(_EVENTS, _STATIONS, _STATIONS.c.id == _EVENTS.c.station_id)
    .outerjoin(_ROLES, _CURRENT_ROLES)
    .outerjoin(_PEOPLE, _PEOPLE.c.id == bindparam("person_id"))
    .where(_EVENTS.c.id == bindparam("event_id"))
    .order_by(_ROLES.c.position),
    begins=False,
)
# The same, with the caller's account: one row per role and station of the account; none when
# there is no such account (the event, its roles and the person outer-joined).
_READ_TARGET_AS = DriverStatement(
    account_select(*_TARGET_COLUMNS)
    .outerjoin(_EVENTS, _EVENTS.c.id == bindparam("event_id"))
    .outerjoin(_STATIONS, _STATIONS.c.id == _EVENTS.c.station_id)
    .outerjoin(_ROLES, _CURRENT_ROLES)
    .outerjoin(_PEOPLE, _PEOPLE.c.id == bindparam("person_id"))
    .order_by(_ROLES.c.position),
    begins=False,
)


async def read_target(session: AsyncSession, *, event_id: int, person_id: int) -> SignupTarget:
    """The event, its zone and roles, and the person's station and name, in one statement."""
    rows = await _READ_TARGET.fetch(session, {"event_id": event_id, "person_id": person_id})
    target = _target_of(rows, person_id)
    if target is None:
        raise not_found("活动", "event", event_id)
    return target


async def read_target_as(
    session: AsyncSession, *, user_id: int, event_id: int, person_id: int
) -> tuple[Principal, SignupTarget]:
    """``read_target`` and the caller (``auth.service.principal_of``) in one statement, for a
    route that has only verified the bearer token: a missing or disabled account is refused
    first, then a missing event."""
    parameters = {"user_id": user_id, "event_id": event_id, "person_id": person_id}
    rows = await _READ_TARGET_AS.fetch(session, parameters)
    principal = principal_of(user_id, rows)
    target = _target_of(rows, person_id)
    if target is None:
        raise not_found("活动", "event", event_id)
    return principal, target


def _target_of(rows: Sequence[Row], person_id: int) -> SignupTarget | None:
    first = rows[0] if rows else None
    if first is None or first["event_id"] is None:
        return None
    event = plain_instance(Event, {key: first[f"event_{key}"] for key in _EVENT_FIELDS})
    # Rows repeat a role once per station of the caller's account.
    roles = list(
        dict.fromkeys(RoleRef(row["role_id"], row["role_name"]) for row in rows if row["role_id"] is not None)
    )
    person = None
    if first["target_id"] is not None:
        person = PersonRef(first["target_id"], first["target_station_id"], first["target_name"])
    return SignupTarget(event, first["timezone"], roles, person_id, person)
