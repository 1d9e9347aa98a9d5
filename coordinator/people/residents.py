"""The residents ledger (台账): create, read, list, change. Like people, the importer reuses
``resident_values_checked``, ``insert_resident`` and ``change_resident``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Conflict, not_found
from coordinator.pagination import paginate
from coordinator.people.field_rules import (
    Problems,
    check_categories,
    check_terms,
    format_birthday,
    normalize_id_number,
    normalize_phone,
    parse_birthday,
)
from coordinator.people.models import Resident, ResidentCategoryRow
from coordinator.people.records import add_record, change_record
from coordinator.people.schemas import ResidentCreate, ResidentUpdate
from coordinator.people.vocabularies import load_vocabulary
from coordinator.people.vocabulary import TermKind, Vocabulary
from coordinator.stations.service import get_station

_BIRTHDAY_FIELDS = ("birthday", "birthday_is_lunar", "birthday_leap_month")


@dataclass(frozen=True)
class ResidentFilters:
    station_id: int | None = None
    category: str | None = None
    language: str | None = None
    active: bool | None = None
    q: str | None = None
    any_category: tuple[str, ...] = ()  # in at least one of these categories (an event's targets)


def id_number_taken() -> Conflict:
    return Conflict(
        "本站台账中已有该身份证号",
        "A resident with this ID number exists at this station",
        code="id_number_taken",
        field="id_number",
    )


def resident_values(
    data: BaseModel, vocabulary: Vocabulary, current: Resident | None = None, fields: set[str] | None = None
) -> dict[str, Any]:
    """Normalized column values of ``data``; raises the first rule violation."""
    problems = Problems()
    values = resident_values_checked(data, vocabulary, problems, current, fields)
    problems.raise_first()
    return values


def resident_values_checked(
    data: BaseModel,
    vocabulary: Vocabulary,
    problems: Problems,
    current: Resident | None = None,
    fields: set[str] | None = None,
) -> dict[str, Any]:
    """Like ``resident_values``, collecting every violation into ``problems``.

    ``current`` is the stored resident being changed: a changed calendar flag re-checks the stored
    birthday with it."""
    sent = data.model_dump(
        exclude_unset=isinstance(data, ResidentUpdate), include=fields, exclude={"station_id"}
    )
    values = {k: v for k, v in sent.items() if k not in _BIRTHDAY_FIELDS}
    rules: dict[str, Callable[[Any], Any]] = {
        "categories": check_categories,
        "language": lambda code: check_terms(vocabulary, TermKind.language, [code], field="language")[0],
        "phone": normalize_phone,
        "id_number": normalize_id_number,
    }
    for field, rule in rules.items():
        if values.get(field) is not None:
            values[field] = problems.check(_bound(rule, values[field]))
    if any(field in sent for field in _BIRTHDAY_FIELDS):
        values.update(problems.check(lambda: _birthday_columns(sent, current)) or {})
    return values


def _bound(rule: Callable[[Any], Any], value: Any) -> Callable[[], Any]:
    return lambda: rule(value)


def _birthday_columns(sent: dict[str, Any], current: Resident | None) -> dict[str, Any]:
    stored = format_birthday(current.birth_year, current.birth_month, current.birth_day) if current else None
    text = sent.get("birthday", stored)
    is_lunar = sent.get("birthday_is_lunar", current.birthday_is_lunar if current else False)
    leap = sent.get("birthday_leap_month", current.birthday_leap_month if current else False)
    year, month, day = (None, None, None)
    if text is not None:
        year, month, day = parse_birthday(text, is_lunar=is_lunar, leap_month=leap)
    return {
        "birth_year": year,
        "birth_month": month,
        "birth_day": day,
        "birthday_is_lunar": is_lunar,
        "birthday_leap_month": leap,
    }


async def create_resident(
    *, session: AsyncSession, clock: Clock, principal: Principal, data: ResidentCreate
) -> Resident:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=data.station_id)
    vocabulary = await load_vocabulary(session=session, station_id=data.station_id)
    values = resident_values(data, vocabulary)
    return await insert_resident(session=session, clock=clock, station_id=data.station_id, values=values)


async def insert_resident(
    *, session: AsyncSession, clock: Clock, station_id: int, values: dict[str, Any]
) -> Resident:
    fields = dict(values)
    categories = fields.pop("categories")
    resident = Resident(station_id=station_id, **fields)
    resident.category_rows = [ResidentCategoryRow(category=c) for c in categories]
    await add_record(session=session, clock=clock, record=resident, taken=id_number_taken())
    return resident


async def get_resident(*, session: AsyncSession, principal: Principal, resident_id: int) -> Resident:
    principal.require_staff()
    resident = await session.scalar(
        select(Resident).where(Resident.id == resident_id).options(selectinload(Resident.category_rows))
    )
    if resident is None or not principal.can_access(resident.station_id):
        raise not_found("居民", "resident", resident_id)
    return resident


async def list_residents(
    *, session: AsyncSession, principal: Principal, filters: ResidentFilters, limit: int, cursor: str | None
) -> tuple[list[Resident], str | None]:
    principal.require_staff()
    if filters.station_id is not None:
        await get_station(session=session, principal=principal, station_id=filters.station_id)
    stmt = _filtered(select(Resident).where(principal.station_filter(Resident.station_id)), filters)
    return await paginate(
        session,
        stmt.options(selectinload(Resident.category_rows)),
        keys=[Resident.id],
        limit=limit,
        cursor=cursor,
    )


def _filtered(stmt: Select[Resident], filters: ResidentFilters) -> Select[Resident]:
    if filters.station_id is not None:
        stmt = stmt.where(Resident.station_id == filters.station_id)
    if filters.category is not None:
        stmt = stmt.where(
            exists().where(
                ResidentCategoryRow.resident_id == Resident.id,
                ResidentCategoryRow.category == filters.category,
            )
        )
    if filters.any_category:
        stmt = stmt.where(
            exists().where(
                ResidentCategoryRow.resident_id == Resident.id,
                ResidentCategoryRow.category.in_(filters.any_category),
            )
        )
    if filters.language is not None:
        stmt = stmt.where(Resident.language == filters.language)
    if filters.active is not None:
        stmt = stmt.where(Resident.is_active == filters.active)
    if filters.q:
        stmt = stmt.where(Resident.name.icontains(filters.q.strip(), autoescape=True))
    return stmt


async def update_resident(
    *, session: AsyncSession, clock: Clock, principal: Principal, resident_id: int, data: ResidentUpdate
) -> Resident:
    resident = await get_resident(session=session, principal=principal, resident_id=resident_id)
    vocabulary = await load_vocabulary(session=session, station_id=resident.station_id)
    values = resident_values(data, vocabulary, current=resident)
    await change_resident(session=session, clock=clock, resident=resident, values=values)
    return resident


async def change_resident(
    *, session: AsyncSession, clock: Clock, resident: Resident, values: dict[str, Any]
) -> list[str]:
    """Apply normalized ``values`` to a resident whose categories are loaded; answers the changed fields."""
    return await change_record(
        session=session,
        clock=clock,
        record=resident,
        values=values,
        replacers={"categories": partial(_replace_categories, resident)},
        taken=id_number_taken(),
    )


def _replace_categories(resident: Resident, categories: list[str]) -> bool:
    current = set(resident.categories)
    if current == set(categories):
        return False
    kept = [row for row in resident.category_rows if row.category in categories]
    resident.category_rows = kept + [ResidentCategoryRow(category=c) for c in categories if c not in current]
    return True
