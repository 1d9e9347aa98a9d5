"""Who a walk-in given by name and phone is: the station's person with that phone, or a new one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.clock import Clock
from coordinator.errors import Conflict
from coordinator.people.field_rules import normalize_phone
from coordinator.people.models import Person
from coordinator.people.service import insert_person


async def walk_in_person(
    session: AsyncSession, clock: Clock, *, station_id: int, name: str, phone: str, field: str
) -> Person:
    """A phone that is not a valid number answers 422 naming ``field``."""
    normalized = normalize_phone(phone, field=field)
    found = select(Person).where(Person.station_id == station_id, Person.phone == normalized)
    person = await session.scalar(found)
    if person is not None:
        return person
    try:
        # Added inside this savepoint so that, if a concurrent upload made the same walk-in
        # first, rolling back removes it from the session and the other one's person is used.
        async with session.begin_nested():
            return await insert_person(
                session=session,
                clock=clock,
                station_id=station_id,
                values={"name": name, "phone": normalized, "skills": [], "languages": []},
            )
    except Conflict as error:
        if error.code != "phone_taken":
            raise
        person = await session.scalar(found)
        if person is None:
            raise
        return person
