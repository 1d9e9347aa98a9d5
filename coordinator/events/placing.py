"""A new sign-up's place in its role: the locks, the decision, the writes and the position.

``signups.place`` reads the event and the person without taking any lock. Then, on PostgreSQL,
two statements and the request's commit:

1. ``claim_place``: the role's row (``FOR NO KEY UPDATE``, the lock an update of it takes; its
   arrival number read under the lock), then the person's row (``FOR UPDATE``), in one
   statement: the order of every path (``waitlist``), so these locks cannot deadlock. The same
   statement reads the person's commitments, with its snapshot: as they were before the locks.
   The person's rules are checked on the rows it answers.
2. ``write_place``: one statement that decides confirmed or waiting, writes the sign-up, the
   role's counts (its arrival number, and its confirmed or waiting count: the one new version of
   the role's row per sign-up) and the outbox row, but only if the person's commitments are
   still those the rules were checked on.
3. The commit, with nothing but the answer's shaping between 2 and it.

The role's lock is held from the end of 1 to 3: the round trip of 2 and the commit. Why each
invariant holds:

- Confirmed never exceeds the count: 2 decides from the role's count, its confirmed count and
  its invitations, all read by 2 itself. 2 starts once 1 holds the role's lock, so its snapshot
  has every change made before under that lock (every change of those is), and none comes
  until the commit.
- The waitlist keeps arrival order: the arrival number (1) and the sign-up's id (2) are both
  taken under the role's lock. The position answered is the role's waiting count as 1 read it,
  plus one: every path that adds to or takes from a waitlist changes that count under the same
  lock (``waitlist``), so it is exact while the lock is held.
- No clash, monthly maximum respected: whoever adds a commitment of a person (a sign-up, an
  invitation, its acceptance, a promotion, the matcher) holds the person's lock until it
  commits. 2 starts once 1 holds it, so if the commitments 2 reads equal those checked (their
  ``commitments_fingerprint``), the checks hold at the commit. If not (a sign-up of the person
  committed before 1 had the lock, or a cancellation or reschedule, which take no person lock),
  2 writes nothing: they are read again, checked again, and 2 runs again.
- One live sign-up per person and event: the same check, and in any case the partial unique
  index ``uq_signups_live_person``.
- The outbox row is written by 2, in the same transaction as the sign-up.
- No live sign-up in a removed role: a removal (``roles.remove_role``) takes the role's lock
  and counts the live sign-ups under it; 1 matches only a role not removed, checked once the
  lock is free, so a sign-up either committed before the count or finds the role removed.

SQLite does the same one statement at a time; its transactions are serialized (``BEGIN
IMMEDIATE``), so what was read before the locks is already exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    Table,
    bindparam,
    case,
    false,
    func,
    insert,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from coordinator.bus.models import OutboxEvent
from coordinator.bus.outbox import RELAY_KICK_KEY
from coordinator.clock import Clock
from coordinator.db import UTCDateTime, is_postgres, on_commit
from coordinator.driver_sql import DriverStatement
from coordinator.events.models import Event, EventRole, Signup, SignupSource, SignupStatus
from coordinator.events.signup_rules import (
    Commitment,
    already_signed_up,
    commitments_fingerprint,
    commitments_of,
    fingerprinted_commitments,
    person_commitments,
    unknown_role,
)
from coordinator.events.waitlist import emit_signup, free_places
from coordinator.people.models import Person

_ROLES: Table = EventRole.__table__  # type: ignore[assignment]  # mapped to a Table
_PEOPLE: Table = Person.__table__  # type: ignore[assignment]
_SIGNUPS: Table = Signup.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxEvent.__table__  # type: ignore[assignment]

# What the rules read of the role (``check_person_fits``; SQLite: ``free_places``) and of the person.
_ROLE_FIELDS = (
    *("id", "name", "count", "confirmed_count", "waitlisted_count", "next_waitlist_seq"),
    *("skills", "languages", "party_members_only"),
)
_PERSON_FIELDS = ("id", "station_id", "is_active", "is_party_member", "max_events_per_month")


@dataclass(frozen=True)
class Claim:
    """A new sign-up's hold on its role and person, both locked, as ``claim_place`` read them
    (plain instances outside the session, with only what the rules read), and the person's
    commitments with their fingerprint, read before the locks (``person_commitments``)."""

    role: EventRole
    person: Person
    arrival: int  # the waitlist number, should the person have to wait
    commitments: list[Commitment]
    seen: str | None


@dataclass(frozen=True)
class Placed:
    signup: Signup  # detached, every column known
    position: int | None  # in the role's waitlist (1 = next), when waiting


# A removed role matches nothing, also when its removal committed while this waited for the lock
# (PostgreSQL checks the WHERE again on the row as the removal left it).
_IS_CURRENT = (_ROLES.c.id == bindparam("role_id"), _ROLES.c.removed_at.is_(None))
# SQLite: the arrival number taken as the role is claimed.
_CLAIM_ROLE = (
    update(_ROLES)
    .where(*_IS_CURRENT)
    .values(next_waitlist_seq=_ROLES.c.next_waitlist_seq + 1)
    .returning(*(_ROLES.c[key] for key in _ROLE_FIELDS))
)
# PostgreSQL: a lock only (FOR NO KEY UPDATE, the mode an UPDATE of the row takes, so that
# foreign-key checks pass), which makes no new version of the row; ``write_place`` makes the one
# version per sign-up. Each version is one more for every read of this hot row to step over
# while the transactions queued for it hold back its cleanup: with an UPDATE here (two versions
# per sign-up) PostgreSQL spent 1.36 ms of CPU per sign-up at 30 in flight, with one 1.19 ms.
_CLAIMED = (
    select(*(_ROLES.c[key] for key in _ROLE_FIELDS))
    .where(*_IS_CURRENT)
    .with_for_update(key_share=True)
    .cte("claimed")
)
# The person's row is locked where the rows leave the join with the locked role: after the
# role's lock, which the join has to wait for. The person's commitments come along, one row each
# (or one row without any), read with the statement's snapshot: from before the locks, like a
# statement of their own before it, and checked again under them by ``write_place``.
_COMMITMENTS = fingerprinted_commitments()
_CLAIM_PLACE = DriverStatement(
    select(_CLAIMED, *(_PEOPLE.c[key].label(f"person_{key}") for key in _PERSON_FIELDS), _COMMITMENTS)
    .join_from(_CLAIMED, _PEOPLE, _PEOPLE.c.id == bindparam("person_id"))
    .outerjoin(_COMMITMENTS, true())
    .with_for_update(of=_PEOPLE)
)
_IS_CURRENT_ROLE = select(_ROLES.c.id).where(*_IS_CURRENT)
_READ_PERSON = select(*(_PEOPLE.c[key].label(f"person_{key}") for key in _PERSON_FIELDS)).where(
    _PEOPLE.c.id == bindparam("person_id")
)


async def claim_place(
    session: AsyncSession, role_id: int, person_id: int, commitment_parameters: dict[str, Any]
) -> Claim | None:
    """Lock the role (taking an arrival number), then the person, and read the person's
    commitments (``commitment_parameters``); None when there is no such person (on SQLite the
    number is then taken for nothing, which is harmless: positions are ranks). A role removed
    since the caller read the event's roles is refused as ``unknown_role``."""
    parameters = {**commitment_parameters, "role_id": role_id}
    postgres = is_postgres(session)
    if postgres:
        rows = await _CLAIM_PLACE.fetch(session, parameters)
        if not rows:
            if await session.scalar(_IS_CURRENT_ROLE, {"role_id": role_id}) is None:
                raise unknown_role(role_id)
            return None
        found = role_fields = rows[0]
        commitments, seen = commitments_of(person_id, rows)
    else:
        commitments, seen = await person_commitments(session, commitment_parameters)
        claimed = (await session.execute(_CLAIM_ROLE, parameters)).first()
        if claimed is None:
            raise unknown_role(role_id)
        role_fields = claimed._mapping
        person_row = (await session.execute(_READ_PERSON, parameters)).first()
        if person_row is None:
            return None
        found = person_row._mapping
    role = EventRole(**{key: role_fields[key] for key in _ROLE_FIELDS})
    person = Person(**{key: found[f"person_{key}"] for key in _PERSON_FIELDS})
    if postgres:  # the number is taken by ``write_place``: the role as it will be
        role.next_waitlist_seq += 1
    return Claim(role, person, role.next_waitlist_seq - 1, commitments, seen)


_NEW_SIGNUP_COLUMNS = (
    *("event_id", "role_id", "person_id", "status", "source", "waitlist_seq"),
    *("created_at", "updated_at", "confirmed_at"),
)
_NEW_OUTBOX_COLUMNS = (
    *("event_type", "aggregate_type", "aggregate_id", "station_id", "payload"),
    *("occurred_at", "fanned_out"),
)


def _place_statement() -> Select[int, str]:
    """``write_place`` on PostgreSQL, built once: data-modifying CTEs answering the new sign-up.

    The confirmed-or-waiting rule is ``waitlist.free_places`` (places left when the confirmed
    and the invited are counted), here in SQL so that it reads the role and its invitations
    with this statement's snapshot, taken under the role's lock."""
    role_id = bindparam("role_id", type_=Integer)
    now = bindparam("now", type_=UTCDateTime())
    source = bindparam("source", type_=String)
    confirmed, waiting = literal(SignupStatus.confirmed.value), literal(SignupStatus.waitlisted.value)
    invited = (
        select(func.count())
        .where(_SIGNUPS.c.role_id == role_id, _SIGNUPS.c.status == SignupStatus.invited)
        .scalar_subquery()
    )
    unchanged = commitments_fingerprint().is_not_distinct_from(bindparam("seen", type_=String))
    decided = (
        select((_ROLES.c.count - _ROLES.c.confirmed_count - invited > 0).label("has_place"))
        .where(_ROLES.c.id == role_id, unchanged)
        .cte("decided")
    )
    new_signup = (
        insert(_SIGNUPS)
        .from_select(
            _NEW_SIGNUP_COLUMNS,
            select(
                bindparam("for_event_id", type_=Integer),
                role_id,
                bindparam("person_id", type_=Integer),
                case((decided.c.has_place, confirmed), else_=waiting),
                source,
                case((decided.c.has_place, null()), else_=bindparam("arrival", type_=Integer)),
                now,
                now,
                case((decided.c.has_place, now), else_=null()),
            ),
        )
        .returning(_SIGNUPS.c.id, _SIGNUPS.c.status, _SIGNUPS.c.waitlist_seq)
        .cte("new_signup")
    )
    # The role's one new row version per sign-up: the arrival number taken, and the count of
    # the confirmed or of the waiting one more.
    counted = (
        update(_ROLES)
        .where(_ROLES.c.id == role_id, select(new_signup.c.id).exists())
        .values(
            next_waitlist_seq=_ROLES.c.next_waitlist_seq + 1,
            confirmed_count=_ROLES.c.confirmed_count
            + select(func.count()).where(new_signup.c.status == confirmed).scalar_subquery(),
            waitlisted_count=_ROLES.c.waitlisted_count
            + select(func.count()).where(new_signup.c.status == waiting).scalar_subquery(),
        )
        .cte("counted")
    )
    payload = func.json_build_object(
        *("signup_id", new_signup.c.id, "event_id", bindparam("for_event_id", type_=Integer)),
        *("role_id", role_id, "person_id", bindparam("person_id", type_=Integer)),
        *("status", new_signup.c.status, "source", source),
    )
    announced = (
        insert(_OUTBOX)
        .from_select(
            _NEW_OUTBOX_COLUMNS,
            select(
                case((new_signup.c.status == confirmed, "SignupConfirmed"), else_="SignupWaitlisted"),
                literal("signup"),
                new_signup.c.id,
                bindparam("station_id", type_=Integer),
                payload,
                now,
                false(),
            ),
        )
        .cte("announced")
    )
    return select(new_signup.c.id, new_signup.c.status).add_cte(counted, announced)


_PLACE = DriverStatement(_place_statement())
_INSERT_SIGNUP = insert(_SIGNUPS).returning(_SIGNUPS.c.id)
_COUNT_CONFIRMED = (
    update(_ROLES)
    .where(_ROLES.c.id == bindparam("role_id"))
    .values(confirmed_count=_ROLES.c.confirmed_count + 1)
)
_COUNT_WAITING = (
    update(_ROLES)
    .where(_ROLES.c.id == bindparam("role_id"))
    .values(waitlisted_count=_ROLES.c.waitlisted_count + 1)
)


async def write_place(
    session: AsyncSession,
    clock: Clock,
    *,
    event: Event,
    claim: Claim,
    source: SignupSource,
    commitment_parameters: dict[str, Any],
    seen: str | None,
) -> Placed | None:
    """Confirmed if the role has a free place, else waiting at the end of its queue: the sign-up,
    the role's count and the outbox row. None (nothing written) when, on PostgreSQL, the person's
    commitments no longer have the fingerprint ``seen`` the rules were checked on.

    ``commitment_parameters`` are those ``person_commitments`` read with (the person, the event,
    the window)."""
    now = clock.now()
    if not is_postgres(session):
        return await _write_one_by_one(session, clock, event=event, claim=claim, source=source, now=now)
    parameters = {
        **commitment_parameters,
        "role_id": claim.role.id,
        "station_id": event.station_id,
        "source": source,
        "arrival": claim.arrival,
        "now": now,
        "seen": seen,
    }
    try:
        row = await _PLACE.first(session, parameters)
    except IntegrityError as exc:
        refuse_duplicate(exc, event.id, claim.person.id)
        raise
    if row is None:
        return None
    kick = session.sync_session.info.get(RELAY_KICK_KEY)
    if kick is not None:
        on_commit(session, kick)
    confirmed = SignupStatus(row["status"]) == SignupStatus.confirmed
    _keep_loaded_role_current(session, claim, confirmed=confirmed)
    signup = _detached(row["id"], _signup_values(event, claim, source, now, confirmed=confirmed))
    return Placed(signup, _position(claim, confirmed=confirmed))


async def _write_one_by_one(
    session: AsyncSession, clock: Clock, *, event: Event, claim: Claim, source: SignupSource, now: datetime
) -> Placed:
    confirmed = await free_places(session, claim.role) > 0
    values = _signup_values(event, claim, source, now, confirmed=confirmed)
    try:
        signup_id = (await session.execute(_INSERT_SIGNUP, values)).scalar_one()
    except IntegrityError as exc:
        refuse_duplicate(exc, event.id, claim.person.id)
        raise
    signup = _detached(signup_id, values)
    await session.execute(_COUNT_CONFIRMED if confirmed else _COUNT_WAITING, {"role_id": claim.role.id})
    _keep_loaded_role_current(session, claim, confirmed=confirmed)
    kind = "SignupConfirmed" if confirmed else "SignupWaitlisted"
    await emit_signup(session, clock, kind, signup, event.station_id, source=source)
    return Placed(signup, _position(claim, confirmed=confirmed))


def _position(claim: Claim, *, confirmed: bool) -> int | None:
    """Last in the queue: behind everyone waiting when the role was locked (its count is exact
    under the lock, and nobody joins the queue while it is held)."""
    return None if confirmed else claim.role.waitlisted_count + 1


def _keep_loaded_role_current(session: AsyncSession, claim: Claim, *, confirmed: bool) -> None:
    """The caller may have loaded the role into the session before (the matcher, the volunteer
    pages): keep it as now stored, since these writes go around the session."""
    loaded_objects = session.sync_session.identity_map
    loaded = loaded_objects.get(identity_key(EventRole, claim.role.id)) if loaded_objects else None
    if loaded is not None:
        set_committed_value(loaded, "next_waitlist_seq", claim.role.next_waitlist_seq)
        set_committed_value(loaded, "confirmed_count", claim.role.confirmed_count + confirmed)
        set_committed_value(loaded, "waitlisted_count", claim.role.waitlisted_count + (not confirmed))


def _signup_values(
    event: Event, claim: Claim, source: SignupSource, now: datetime, *, confirmed: bool
) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "role_id": claim.role.id,
        "person_id": claim.person.id,
        "status": SignupStatus.confirmed if confirmed else SignupStatus.waitlisted,
        "source": source,
        "waitlist_seq": None if confirmed else claim.arrival,
        "invitation_expires_at": None,
        "created_at": now,
        "updated_at": now,
        "confirmed_at": now if confirmed else None,
        "cancelled_at": None,
    }


def _detached(signup_id: int, values: dict[str, Any]) -> Signup:
    signup = Signup(id=signup_id, **values)
    make_transient_to_detached(signup)
    return signup


def refuse_duplicate(exc: IntegrityError, event_id: int, person_id: int) -> None:
    """Raise ``already_signed_up`` if ``exc`` is the partial unique index's refusal."""
    text = str(exc.orig)  # PostgreSQL names the index, SQLite the columns
    if "uq_signups_live_person" in text or "signups.event_id, signups.person_id" in text:
        raise already_signed_up(event_id, person_id) from exc
