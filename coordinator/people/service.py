"""People who give time: create, read, list, change. The importer reuses ``person_values``,
``insert_person`` and ``change_person`` so a row of a file obeys exactly the API's rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.auth.principal import STAFF_ROLES, Principal
from coordinator.clock import Clock
from coordinator.errors import Conflict, not_found
from coordinator.pagination import paginate
from coordinator.people.field_rules import Problems, check_terms, normalize_phone
from coordinator.people.models import Person, PersonTerm
from coordinator.people.records import add_record, change_record
from coordinator.people.schemas import PersonCreate, PersonUpdate
from coordinator.people.vocabularies import load_vocabulary
from coordinator.people.vocabulary import TermKind, Vocabulary
from coordinator.stations.service import get_station

_TERM_FIELDS = {"skills": TermKind.skill, "languages": TermKind.language}


@dataclass(frozen=True)
class PersonFilters:
    station_id: int | None = None
    skill: str | None = None
    language: str | None = None
    party_member: bool | None = None
    social_worker: bool | None = None
    active: bool | None = None
    q: str | None = None


def phone_taken() -> Conflict:
    return Conflict(
        "本站已有使用该手机号的人员",
        "A person with this phone exists at this station",
        code="phone_taken",
        field="phone",
    )


def person_values(data: BaseModel, vocabulary: Vocabulary, fields: set[str] | None = None) -> dict[str, Any]:
    """Normalized column values of ``data``; raises the first rule violation.

    A create gives every field, an update the fields sent; ``fields`` narrows that further (an
    imported row updating a known person changes only the columns the file has)."""
    problems = Problems()
    values = person_values_checked(data, vocabulary, problems, fields)
    problems.raise_first()
    return values


def person_values_checked(
    data: BaseModel, vocabulary: Vocabulary, problems: Problems, fields: set[str] | None = None
) -> dict[str, Any]:
    """Like ``person_values`` but collecting every violation into ``problems`` (for imports)."""
    values = data.model_dump(
        exclude_unset=isinstance(data, PersonUpdate), include=fields, exclude={"station_id"}
    )
    if values.get("phone") is not None:
        phone = values["phone"]
        values["phone"] = problems.check(lambda: normalize_phone(phone))
    for field, kind in _TERM_FIELDS.items():
        if values.get(field) is not None:
            values[field] = problems.check(_term_rule(vocabulary, kind, values[field], field))
    return values


def _term_rule(
    vocabulary: Vocabulary, kind: TermKind, codes: list[str], field: str
) -> Callable[[], list[str]]:
    return lambda: check_terms(vocabulary, kind, codes, field=field)


async def create_person(
    *, session: AsyncSession, clock: Clock, principal: Principal, data: PersonCreate
) -> Person:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=data.station_id)
    vocabulary = await load_vocabulary(session=session, station_id=data.station_id)
    values = person_values(data, vocabulary)
    return await insert_person(session=session, clock=clock, station_id=data.station_id, values=values)


async def insert_person(
    *, session: AsyncSession, clock: Clock, station_id: int, values: dict[str, Any]
) -> Person:
    fields = dict(values)
    terms = _terms(fields.pop("skills", []), fields.pop("languages", []))
    person = Person(station_id=station_id, **fields)
    person.terms = terms
    await add_record(session=session, clock=clock, record=person, taken=phone_taken())
    return person


def _terms(skills: list[str], languages: list[str]) -> list[PersonTerm]:
    return [PersonTerm(kind=TermKind.skill.value, code=c) for c in skills] + [
        PersonTerm(kind=TermKind.language.value, code=c) for c in languages
    ]


async def get_person(*, session: AsyncSession, principal: Principal, person_id: int) -> Person:
    """Staff see the people of their stations; a volunteer sees only themselves. Others: 404."""
    person = await session.scalar(
        select(Person).where(Person.id == person_id).options(selectinload(Person.terms))
    )
    if person is None or not _may_see(principal, person):
        raise not_found("人员", "person", person_id)
    return person


def _may_see(principal: Principal, person: Person) -> bool:
    if principal.person_id is not None and principal.person_id == person.id:
        return True
    return principal.role in STAFF_ROLES and principal.can_access(person.station_id)


async def list_people(
    *, session: AsyncSession, principal: Principal, filters: PersonFilters, limit: int, cursor: str | None
) -> tuple[list[Person], str | None]:
    principal.require_staff()
    if filters.station_id is not None:
        await get_station(session=session, principal=principal, station_id=filters.station_id)
    stmt = _filtered(select(Person).where(principal.station_filter(Person.station_id)), filters)
    return await paginate(
        session, stmt.options(selectinload(Person.terms)), keys=[Person.id], limit=limit, cursor=cursor
    )


def _filtered(stmt: Select[Person], filters: PersonFilters) -> Select[Person]:
    if filters.station_id is not None:
        stmt = stmt.where(Person.station_id == filters.station_id)
    for kind, code in ((TermKind.skill, filters.skill), (TermKind.language, filters.language)):
        if code is not None:
            stmt = stmt.where(
                exists().where(
                    PersonTerm.person_id == Person.id, PersonTerm.kind == kind.value, PersonTerm.code == code
                )
            )
    if filters.party_member is not None:
        stmt = stmt.where(Person.is_party_member == filters.party_member)
    if filters.social_worker is not None:
        stmt = stmt.where(Person.is_social_worker == filters.social_worker)
    if filters.active is not None:
        stmt = stmt.where(Person.is_active == filters.active)
    if filters.q:
        stmt = stmt.where(Person.name.icontains(filters.q.strip(), autoescape=True))
    return stmt


async def update_person(
    *, session: AsyncSession, clock: Clock, principal: Principal, person_id: int, data: PersonUpdate
) -> Person:
    principal.require_staff()
    person = await get_person(session=session, principal=principal, person_id=person_id)
    vocabulary = await load_vocabulary(session=session, station_id=person.station_id)
    values = person_values(data, vocabulary)
    await change_person(session=session, clock=clock, person=person, values=values)
    return person


async def change_person(
    *, session: AsyncSession, clock: Clock, person: Person, values: dict[str, Any]
) -> list[str]:
    """Apply normalized ``values`` to a person whose terms are loaded; answers the changed fields."""
    replacers = {field: partial(_replace_terms, person, kind) for field, kind in _TERM_FIELDS.items()}
    return await change_record(
        session=session, clock=clock, record=person, values=values, replacers=replacers, taken=phone_taken()
    )


def _replace_terms(person: Person, kind: TermKind, codes: list[str]) -> bool:
    """Keep the rows that stay, so an unchanged term is never deleted and re-inserted."""
    current = {t.code for t in person.terms if t.kind == kind.value}
    if current == set(codes):
        return False
    kept = [t for t in person.terms if t.kind != kind.value or t.code in codes]
    person.terms = kept + [PersonTerm(kind=kind.value, code=c) for c in codes if c not in current]
    return True
