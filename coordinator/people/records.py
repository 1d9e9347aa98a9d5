"""Storing a person or a resident: the one way either is added or changed.

The API, the web pages and the importer all come through here, so both kinds of record stamp
their times, turn a clash on their unique key into the same 409 and announce the change with
the same domain event shape (``PersonCreated`` / ``ResidentUpdated`` …, keyed by
``person_id`` / ``resident_id``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.bus.outbox import emit
from coordinator.clock import Clock
from coordinator.db import flush_or_raise
from coordinator.domain_events import DomainEventType
from coordinator.errors import Conflict
from coordinator.people.models import Person, Resident

Record = Person | Resident
# A field kept in child rows (a person's skills, a resident's categories): the replacer swaps the
# rows and answers whether anything changed.
Replacers = Mapping[str, Callable[[Any], bool]]
# The domain events announcing each kind of record.
_CREATED: dict[type[Record], DomainEventType] = {
    Person: DomainEventType.person_created,
    Resident: DomainEventType.resident_created,
}
_UPDATED: dict[type[Record], DomainEventType] = {
    Person: DomainEventType.person_updated,
    Resident: DomainEventType.resident_updated,
}


async def add_record(*, session: AsyncSession, clock: Clock, record: Record, taken: Conflict) -> None:
    """Insert ``record`` (its station and columns set); ``taken`` is raised when its unique key clashes."""
    record.created_at = record.updated_at = clock.now()
    session.add(record)
    await flush_or_raise(session, taken)
    await _announce(session, clock, record, _CREATED[type(record)], {})


async def change_record(
    *,
    session: AsyncSession,
    clock: Clock,
    record: Record,
    values: dict[str, Any],
    replacers: Replacers,
    taken: Conflict,
) -> list[str]:
    """Apply normalized ``values`` to a loaded record; answers the changed fields.

    Nothing is written or announced when every value is what is stored already."""
    changed: list[str] = []
    for field, value in values.items():
        if field in replacers:
            if replacers[field](value):
                changed.append(field)
        elif getattr(record, field) != value:
            setattr(record, field, value)
            changed.append(field)
    if not changed:
        return changed
    record.updated_at = clock.now()
    await flush_or_raise(session, taken)
    await _announce(session, clock, record, _UPDATED[type(record)], {"changed": sorted(changed)})
    return changed


async def _announce(
    session: AsyncSession, clock: Clock, record: Record, event_type: DomainEventType, extra: dict[str, Any]
) -> None:
    aggregate = "person" if isinstance(record, Person) else "resident"
    await emit(
        session,
        clock,
        event_type,
        aggregate_type=aggregate,
        aggregate_id=record.id,
        station_id=record.station_id,
        payload={f"{aggregate}_id": record.id, "station_id": record.station_id, **extra},
    )


async def bump_token_version(
    session: AsyncSession, person_id: int, column: InstrumentedAttribute[int]
) -> int:
    """Revoke every token issued at ``column``'s version (the calendar feed's, the personal QR
    code's): one atomic UPDATE, so two concurrent revocations never share a version. Answers the
    new version; the caller has read the person in this transaction."""
    version = await session.scalar(
        update(Person)
        .where(Person.id == person_id)
        .values({column: column + 1})
        .returning(column)
        .execution_options(synchronize_session=False)
    )
    assert version is not None
    return int(version)
