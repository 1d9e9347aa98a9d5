"""A new sign-up's place in its role: the checks, the locks, the writes and the position.

``signups.place`` reads the event and the person (``signup_target``) without any lock. Then, on
PostgreSQL, one more read and one call:

1. ``read_place``: the role, the person and the person's commitments, without locks, and
   ``signup_rules_seen``: one string of everything the person's rules read (the role's
   requirements; the person's station, state, Party membership, monthly maximum and terms; the
   commitments). The rules are checked in Python on these rows.
2. ``write_place``: ``CALL place_signup`` (migration 0002). The procedure locks the role
   (``FOR NO KEY UPDATE``) and then the person (``FOR UPDATE``), the order of every path
   (``waitlist``), so these locks cannot deadlock. Under both it computes the rules' string again
   and goes on only if it equals the one the rules were checked on. It decides confirmed or
   waiting, writes the sign-up, the role's counts (its arrival number, and its confirmed or
   waiting count: one new version of the role's row) and the outbox row. When the sign-up is its
   caller's whole unit of work (``commit_at_once``: the API's ``POST /signups``, whose reads
   before go outside any transaction) and no transaction is open, the procedure commits it at
   once. Otherwise (the matcher, the pages: a sign-up among other writes) it writes into the
   caller's transaction, and the locks last until the caller commits.

For the API's sign-up, the role's lock, which every sign-up for the role queues for, is held only
while the server runs the procedure's few statements and its commit: never across a round trip
to this process, whose event loop is busy with the other requests of the rush. (Holding it across
two round trips, as two statements and the request's commit did, made a sign-up at 30 in flight
take 2.4 ms of the lock instead of well under one.) Why each invariant holds:

- Confirmed never exceeds the count: the procedure decides from the role's row as locked (the
  newest version: a row lock waits for the holder and then reads what it committed) and from
  its invitations, counted by a statement that starts after the lock is held.
- The waitlist keeps arrival order: the arrival number and the sign-up's id are both taken under
  the role's lock. The position answered is the role's waiting count, as locked, plus one: every
  path that adds to or takes from a waitlist changes that count under the same lock
  (``waitlist``), so it is exact while the lock is held.
- No clash, monthly maximum respected: whoever adds a commitment of a person (a sign-up, an
  invitation, its acceptance, a promotion, the matcher) holds the person's lock until it
  commits. The procedure computes the rules' string after taking that lock, so if it equals the
  one checked, the checks still hold at the commit: no commitment can be added before it. If not
  (a commitment added, or the person or the role's requirements changed, since step 1; or a
  cancellation or reschedule, which take no person lock), it writes nothing and answers
  ``stale``: everything is read and checked again and the call made again.
- Requirements met: they held on the rules' string as it was under the locks. A change of the
  role or the person committed after that does not undo sign-ups already made, so the sign-up
  stands as if it had committed just before the change.
- One live sign-up per person and event: the same check, and in any case the partial unique
  index ``uq_signups_live_person``.
- The outbox row is written by the procedure, in the same transaction as the sign-up.
- No live sign-up in a removed role: a removal (``roles.remove_role``) takes the role's lock and
  counts the live sign-ups under it; the procedure locks only a role not removed, checked once
  the lock is free, so a sign-up either committed before the count or finds the role removed.

SQLite has no procedures: it locks and writes one statement at a time. Its transactions are
serialized (``BEGIN IMMEDIATE``), so what it reads is already exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Table, bindparam, column, func, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from coordinator.bus.outbox import kick_relay_after_commit
from coordinator.clock import Clock
from coordinator.db import UTCDateTime, is_postgres, plain_instance
from coordinator.domain_events import DomainEventType
from coordinator.driver_sql import DriverStatement, in_transaction
from coordinator.errors import not_found
from coordinator.events.models import Event, EventRole, Signup, SignupSource, SignupStatus
from coordinator.events.signup_rules import (
    Commitment,
    already_signed_up,
    commitment_rows,
    commitments_of,
    person_commitments,
    unknown_role,
)
from coordinator.events.waitlist import emit_signup, free_places
from coordinator.people.models import Person

_ROLES: Table = EventRole.__table__  # type: ignore[assignment]  # mapped to a Table
_PEOPLE: Table = Person.__table__  # type: ignore[assignment]
_SIGNUPS: Table = Signup.__table__  # type: ignore[assignment]

# What the rules read of the role (``check_person_fits``; SQLite: ``free_places``) and of the person.
_ROLE_FIELDS = (
    *("id", "name", "count", "confirmed_count", "waitlisted_count", "next_waitlist_seq"),
    *("skills", "languages", "party_members_only"),
)
_PERSON_FIELDS = ("id", "station_id", "is_active", "is_party_member", "max_events_per_month")


@dataclass(frozen=True)
class PlaceReading:
    """What the rules of a new sign-up check, as ``read_place`` found it: the role and the person
    (plain instances outside the session, with only what the rules read) and the person's
    commitments. On PostgreSQL read before any lock, with ``seen``, the rules' string; on SQLite
    with the role and the person locked, and ``arrival``, the waitlist number taken."""

    role: EventRole
    person: Person
    commitments: list[Commitment]
    seen: str | None = None
    arrival: int | None = None


@dataclass(frozen=True)
class Placed:
    signup: Signup  # detached, every column known
    position: int | None  # in the role's waitlist (1 = next), when waiting


# A removed role matches nothing (on SQLite, also when its removal committed while this waited).
_IS_CURRENT = (_ROLES.c.id == bindparam("role_id"), _ROLES.c.removed_at.is_(None))
_IS_CURRENT_ROLE = select(_ROLES.c.id).where(*_IS_CURRENT)


def _read_place_statement() -> DriverStatement:
    """PostgreSQL, no lock: the role, the person, one row per commitment of the person (or one
    row without any), and the rules' string (``signup_rules_seen``, migration 0002), all with the
    statement's one snapshot."""
    role = select(*(_ROLES.c[key] for key in _ROLE_FIELDS)).where(*_IS_CURRENT).subquery("role")
    commitments = commitment_rows()
    seen = func.signup_rules_seen(
        bindparam("role_id", type_=Integer),
        bindparam("person_id", type_=Integer),
        bindparam("for_event_id", type_=Integer),
        bindparam("window_start", type_=UTCDateTime()),
        bindparam("window_end", type_=UTCDateTime()),
        type_=String,
    )
    return DriverStatement(
        select(
            role,
            *(_PEOPLE.c[key].label(f"person_{key}") for key in _PERSON_FIELDS),
            commitments,
            seen.label("seen"),
        )
        .join_from(role, _PEOPLE, _PEOPLE.c.id == bindparam("person_id"))
        .outerjoin(commitments, true()),
        begins=False,
    )


_READ_PLACE = _read_place_statement()
# SQLite: the role locked (its database lock: ``BEGIN IMMEDIATE``) and its arrival number taken.
_CLAIM_ROLE = (
    update(_ROLES)
    .where(*_IS_CURRENT)
    .values(next_waitlist_seq=_ROLES.c.next_waitlist_seq + 1)
    .returning(*(_ROLES.c[key] for key in _ROLE_FIELDS))
)
_READ_PERSON = select(*(_PEOPLE.c[key].label(f"person_{key}") for key in _PERSON_FIELDS)).where(
    _PEOPLE.c.id == bindparam("person_id")
)


async def read_place(
    session: AsyncSession, role_id: int, person_id: int, commitment_parameters: dict[str, Any]
) -> PlaceReading | None:
    """The role, the person and the person's commitments (``commitment_parameters``); None when
    there is no such person. A role removed since the caller read the event's roles is refused as
    ``unknown_role``. On SQLite the role is locked and an arrival number taken (for nothing when
    the person is missing, which is harmless: positions are ranks)."""
    parameters = {**commitment_parameters, "role_id": role_id}
    if is_postgres(session):
        rows = await _READ_PLACE.fetch(session, parameters)
        if not rows:
            if await session.scalar(_IS_CURRENT_ROLE, {"role_id": role_id}) is None:
                raise unknown_role(role_id)
            return None
        first = rows[0]
        return PlaceReading(
            plain_instance(EventRole, {key: first[key] for key in _ROLE_FIELDS}),
            plain_instance(Person, {key: first[f"person_{key}"] for key in _PERSON_FIELDS}),
            commitments_of(person_id, rows),
            seen=first["seen"],
        )
    commitments = await person_commitments(session, commitment_parameters)
    claimed = (await session.execute(_CLAIM_ROLE, parameters)).first()
    if claimed is None:
        raise unknown_role(role_id)
    person_row = (await session.execute(_READ_PERSON, parameters)).first()
    if person_row is None:
        return None
    role = plain_instance(EventRole, {key: claimed._mapping[key] for key in _ROLE_FIELDS})
    person = plain_instance(Person, {key: person_row._mapping[f"person_{key}"] for key in _PERSON_FIELDS})
    return PlaceReading(role, person, commitments, arrival=role.next_waitlist_seq - 1)


# PostgreSQL: the procedure of migration 0002, with ``commit`` when the sign-up is committed at
# once (then sent with no transaction open), else in the caller's transaction, begun for it.
_CALL_PLACE = (
    text(
        "CALL place_signup(:role_id, :person_id, :for_event_id, :station_id, :source, :now,"
        " :window_start, :window_end, :seen, :commit)"
    )
    .bindparams(
        *(bindparam(key, type_=Integer) for key in ("role_id", "person_id", "for_event_id", "station_id")),
        *(bindparam(key, type_=UTCDateTime()) for key in ("now", "window_start", "window_end")),
        *(bindparam(key, type_=String) for key in ("source", "seen")),
        bindparam("commit", type_=Boolean),
    )
    .columns(
        *(column(key, String) for key in ("placed_outcome", "placed_status")),
        *(column(key, Integer) for key in ("placed_id", "placed_seq", "placed_position")),
        *(column(key, Integer) for key in ("role_confirmed", "role_waitlisted", "role_next_seq")),
    )
)
_PLACE_AT_ONCE = DriverStatement(_CALL_PLACE, begins=False)
_PLACE_IN_TRANSACTION = DriverStatement(_CALL_PLACE)
_INSERT_SIGNUP = _SIGNUPS.insert().returning(_SIGNUPS.c.id)
# SQLite: the new sign-up counted, as confirmed (1, 0) or waiting (0, 1).
_COUNT = (
    update(_ROLES)
    .where(_ROLES.c.id == bindparam("role_id"))
    .values(
        confirmed_count=_ROLES.c.confirmed_count + bindparam("confirmed", type_=Integer),
        waitlisted_count=_ROLES.c.waitlisted_count + bindparam("waiting", type_=Integer),
    )
)


async def write_place(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    reading: PlaceReading,
    source: SignupSource,
    commitment_parameters: dict[str, Any],
    commit_at_once: bool = False,
) -> Placed | None:
    """Confirmed if the role has a free place, else waiting at the end of its queue: the sign-up,
    the role's counts and the outbox row. None (nothing written) when, on PostgreSQL, what the
    rules read is no longer what ``reading`` holds.

    ``commitment_parameters`` are those ``read_place`` read with (the person, the event, the
    window). ``commit_at_once``: the sign-up is the caller's whole unit of work; on PostgreSQL,
    with no transaction open, it is committed here."""
    now = clock.now()
    if not is_postgres(session):
        return await _write_one_by_one(session, clock, event=event, reading=reading, source=source, now=now)
    at_once = commit_at_once and not await in_transaction(session)
    parameters = {
        **commitment_parameters,
        "role_id": reading.role.id,
        "station_id": event.station_id,
        "source": source,
        "now": now,
        "seen": reading.seen,
        "commit": at_once,
    }
    call = _PLACE_AT_ONCE if at_once else _PLACE_IN_TRANSACTION
    try:
        row = (await call.fetch(session, parameters))[0]
    except IntegrityError as exc:
        refuse_duplicate(exc, event.id, reading.person.id)
        raise
    outcome = row["placed_outcome"]
    if outcome == "stale":
        return None
    if outcome == "no_role":
        raise unknown_role(reading.role.id)
    if outcome == "no_person":
        raise not_found("人员", "person", reading.person.id)
    kick_relay_after_commit(session)  # the session's commit; after the procedure's own, if it made one
    _keep_loaded_role_current(
        session, reading.role.id, row["role_confirmed"], row["role_waitlisted"], row["role_next_seq"]
    )
    status = SignupStatus(row["placed_status"])
    values = _signup_values(event, reading, source, now, status=status, waitlist_seq=row["placed_seq"])
    return Placed(_detached(row["placed_id"], values), row["placed_position"])


async def _write_one_by_one(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    reading: PlaceReading,
    source: SignupSource,
    now: datetime,
) -> Placed:
    role = reading.role
    confirmed = await free_places(session, role) > 0
    status = SignupStatus.confirmed if confirmed else SignupStatus.waitlisted
    values = _signup_values(event, reading, source, now, status=status, waitlist_seq=reading.arrival)
    try:
        signup_id = (await session.execute(_INSERT_SIGNUP, values)).scalar_one()
    except IntegrityError as exc:
        refuse_duplicate(exc, event.id, reading.person.id)
        raise
    signup = _detached(signup_id, values)
    counted = {"role_id": role.id, "confirmed": int(confirmed), "waiting": int(not confirmed)}
    await session.execute(_COUNT, counted)
    _keep_loaded_role_current(
        session,
        role.id,
        role.confirmed_count + confirmed,
        role.waitlisted_count + (not confirmed),
        role.next_waitlist_seq,
    )
    kind = DomainEventType.signup_confirmed if confirmed else DomainEventType.signup_waitlisted
    await emit_signup(session, clock, kind, signup, event.station_id, source=source)
    # Last in the queue: behind everyone waiting when the role was locked (its count is exact
    # under the lock, and nobody joins the queue while it is held).
    return Placed(signup, None if confirmed else role.waitlisted_count + 1)


def _keep_loaded_role_current(
    session: AsyncSession, role_id: int, confirmed_count: int, waitlisted_count: int, next_waitlist_seq: int
) -> None:
    """The caller may have loaded the role into the session before (the matcher, the volunteer
    pages): keep it as now stored, since these writes go around the session."""
    loaded_objects = session.sync_session.identity_map
    loaded = loaded_objects.get(identity_key(EventRole, role_id)) if loaded_objects else None
    if loaded is not None:
        set_committed_value(loaded, "next_waitlist_seq", next_waitlist_seq)
        set_committed_value(loaded, "confirmed_count", confirmed_count)
        set_committed_value(loaded, "waitlisted_count", waitlisted_count)


def _signup_values(
    event: Event,
    reading: PlaceReading,
    source: SignupSource,
    now: datetime,
    *,
    status: SignupStatus,
    waitlist_seq: int | None,
) -> dict[str, Any]:
    confirmed = status == SignupStatus.confirmed
    return {
        "event_id": event.id,
        "role_id": reading.role.id,
        "person_id": reading.person.id,
        "status": status,
        "source": source,
        "waitlist_seq": None if confirmed else waitlist_seq,
        "invitation_expires_at": None,
        "created_at": now,
        "updated_at": now,
        "confirmed_at": now if confirmed else None,
        "cancelled_at": None,
    }


def _detached(signup_id: int, values: dict[str, Any]) -> Signup:
    signup = plain_instance(Signup, {"id": signup_id, **values})
    make_transient_to_detached(signup)
    return signup


def refuse_duplicate(exc: IntegrityError, event_id: int, person_id: int) -> None:
    """Raise ``already_signed_up`` if ``exc`` is the partial unique index's refusal."""
    text = str(exc.orig)  # PostgreSQL names the index, SQLite the columns
    if "uq_signups_live_person" in text or "signups.event_id, signups.person_id" in text:
        raise already_signed_up(event_id, person_id) from exc
