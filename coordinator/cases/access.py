"""Who reads case notes: the heads of the case's station and its social workers (staff whose
login is tied to a social worker of that station). Everyone else gets 403 for a station they
see and 404 for one they do not; every read is logged (``log_read``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.cases.models import CaseRead
from coordinator.clock import Clock
from coordinator.errors import Forbidden
from coordinator.people.models import Person


async def may_read_notes(session: AsyncSession, principal: Principal, station_id: int) -> bool:
    if principal.role is Role.volunteer or not principal.can_access(station_id):
        return False
    if principal.role is Role.station_head:
        return True
    if principal.person_id is None:
        return False
    person = await session.get(Person, principal.person_id)
    return person is not None and person.is_social_worker and person.station_id == station_id


async def require_note_reader(session: AsyncSession, principal: Principal, station_id: int) -> None:
    if not await may_read_notes(session, principal, station_id):
        raise Forbidden(
            "只有本站社工和站长可以查看个案记录",
            "Only the station's social workers and heads may read case notes",
            code="case_notes_forbidden",
        )


def log_read(
    session: AsyncSession, clock: Clock, principal: Principal, *, case_id: int, station_id: int, what: str
) -> None:
    """Written in the request's transaction: a read that fails leaves no entry, a served one does."""
    session.add(
        CaseRead(
            case_id=case_id, station_id=station_id, user_id=principal.user_id, read_at=clock.now(), what=what
        )
    )
