"""A person's own check-in code: who a scanned code names, and revoking it.

Revoking bumps ``Person.qr_token_version`` (``people.records.bump_token_version``); a scanned
code is honoured only at the person's current version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance import tokens
from coordinator.auth.principal import Principal
from coordinator.errors import not_found
from coordinator.people.models import Person
from coordinator.people.records import bump_token_version


async def person_by_code(
    session: AsyncSession, secret: str, token: str, *, now: datetime, principal: Principal
) -> Person:
    """The person a scanned personal code names: 400 ``invalid_token`` if forged or unknown,
    400 ``revoked_token`` if the person has revoked it since, 404 if of a station the scanning
    staff cannot see (as in a roster: their name is not theirs to learn)."""
    code = tokens.person_code_of(secret, token, now=now)
    person = await session.get(Person, code.person_id)
    if person is None:
        raise tokens.invalid_token()
    if not principal.can_access(person.station_id):
        raise not_found("人员", "person", person.id)
    if code.version != person.qr_token_version:
        raise tokens.revoked_code()
    return person


async def revoke_code(session: AsyncSession, person_id: int) -> int:
    """Every code issued so far stops working; answers the new version to issue codes at."""
    return await bump_token_version(session, person_id, Person.qr_token_version)
