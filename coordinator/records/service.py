"""A volunteer's service record: real-name identity, the services the statistics count, and the
trainings, commendations and evaluations staff add; staff write, a volunteer reads their own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.records.identity import IdCipher, seal
from coordinator.records.models import Certificate, PersonIdentity, RecordEntry
from coordinator.records.schemas import EntryIn, IdentityIn
from coordinator.stats.person_stats import PersonRecord, load_person, person_record


@dataclass(frozen=True)
class ServiceRecord:
    record: PersonRecord
    identity: PersonIdentity | None
    entries: list[RecordEntry]
    certificates: list[Certificate]


async def set_identity(
    session: AsyncSession, clock: Clock, principal: Principal, cipher: IdCipher, *, person_id: int,
    data: IdentityIn,
) -> PersonIdentity:  # fmt: skip
    principal.require_staff()
    await load_person(session, principal, person_id)
    identity = await session.get(PersonIdentity, person_id)
    if identity is None:
        identity = PersonIdentity(person_id=person_id)
        session.add(identity)
    seal(identity, cipher, data.id_type, data.id_number)
    identity.volunteer_number = data.volunteer_number
    identity.updated_by = principal.user_id or None
    identity.updated_at = clock.now()
    await session.flush()
    return identity


async def add_entry(
    session: AsyncSession, clock: Clock, principal: Principal, *, person_id: int, data: EntryIn
) -> RecordEntry:
    principal.require_staff()
    person = await load_person(session, principal, person_id)
    entry = RecordEntry(
        person_id=person.id,
        station_id=person.station_id,
        kind=data.kind,
        day=data.day,
        title=data.title,
        issuer=data.issuer,
        content=data.content,
        training_minutes=round(data.training_hours * 60) if data.training_hours is not None else None,
        rating=data.rating,
        recorded_by=principal.user_id or None,
        created_at=clock.now(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def service_record(session: AsyncSession, principal: Principal, person_id: int) -> ServiceRecord:
    """Everything of the record; ``person_record`` decides who may read it."""
    record = await person_record(session, principal, person_id)
    entries = await session.scalars(
        select(RecordEntry)
        .where(RecordEntry.person_id == person_id)
        .order_by(RecordEntry.day, RecordEntry.id)
    )
    certificates = await session.scalars(
        select(Certificate).where(Certificate.person_id == person_id).order_by(Certificate.issued_at)
    )
    return ServiceRecord(
        record, await session.get(PersonIdentity, person_id), list(entries), list(certificates)
    )
