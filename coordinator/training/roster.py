"""The organizer's view of a course's enrolments: each with the person's name, station and phone,
grouped by what the organizer has to do; and the people still free to be invited."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.masking import mask_phone
from coordinator.people.models import Person
from coordinator.stations.models import Station
from coordinator.training.courses import organizer_stations
from coordinator.training.enrolment import list_enrolments
from coordinator.training.models import Course, Enrolment, EnrolmentStatus

# Applications waiting for a decision first, then invitations, trainees, and those who left.
GROUPS: tuple[tuple[str, tuple[EnrolmentStatus, ...]], ...] = (
    ("applied", (EnrolmentStatus.applied,)),
    ("invited", (EnrolmentStatus.invited,)),
    ("enrolled", (EnrolmentStatus.enrolled,)),
    ("closed", (EnrolmentStatus.declined, EnrolmentStatus.rejected, EnrolmentStatus.withdrawn)),
)


@dataclass(frozen=True)
class RosterLine:
    enrolment: Enrolment
    name: str
    station: str
    phone: str  # in full only for those who see the station's personal data


async def roster(
    *, session: AsyncSession, principal: Principal, course_id: int
) -> list[tuple[str, list[RosterLine]]]:
    """The course's enrolments by ``GROUPS`` (the organizer's staff only, as ``list_enrolments``)."""
    rows = await list_enrolments(session=session, principal=principal, course_id=course_id, status=None)
    people = {
        person.id: (person, station)
        for person, station in await _with_stations(session, Person.id.in_({r.person_id for r in rows}))
    }
    lines = [_line(principal, row, *people[row.person_id]) for row in rows]
    return [(key, [line for line in lines if line.enrolment.status in statuses]) for key, statuses in GROUPS]


async def invitable(
    session: AsyncSession, course: Course, taken: Collection[int], *, limit: int
) -> list[tuple[Person, str]]:
    """Active people of the stations below the organizer not yet in ``taken``, with their station."""
    return await _with_stations(
        session,
        Person.station_id.in_(sorted(await organizer_stations(session, course))),
        Person.is_active.is_(True),
        Person.id.not_in(sorted(taken)),
        limit=limit,
    )


async def _with_stations(
    session: AsyncSession, *where: ColumnElement[bool], limit: int | None = None
) -> list[tuple[Person, str]]:
    stmt = (
        select(Person, Station.name)
        .join(Station, Station.id == Person.station_id)
        .where(*where)
        .order_by(Station.name, Person.name, Person.id)
        .limit(limit)
    )
    return [(person, station) for person, station in await session.execute(stmt)]


def _line(principal: Principal, enrolment: Enrolment, person: Person, station: str) -> RosterLine:
    # Masked as the residents' ledger masks phones: in full for heads of that station only.
    shown = person.phone if principal.sees_personal_data(person.station_id) else mask_phone(person.phone)
    return RosterLine(enrolment, person.name, station, shown or "")
