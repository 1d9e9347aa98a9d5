"""How imported rows become people or residents: which existing record a row updates, and the
service calls that store it (the same ones the API uses). Checking needs no database; loading and
writing take the session of the chunk being written."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from coordinator.clock import Clock
from coordinator.people.field_rules import Problems
from coordinator.people.models import Person, Resident
from coordinator.people.residents import change_resident, insert_resident, resident_values_checked
from coordinator.people.schemas import ImportRowError, PersonCreate, ResidentCreate
from coordinator.people.service import change_person, insert_person, person_values_checked
from coordinator.people.vocabulary import Vocabulary

_CHUNK = 500  # keeps IN lists well under the drivers' parameter limits
_BIRTHDAY_INPUTS = frozenset({"birthday", "birthday_is_lunar", "birthday_leap_month"})
_BIRTHDAY_COLUMNS = frozenset(
    {"birth_year", "birth_month", "birth_day", "birthday_is_lunar", "birthday_leap_month"}
)


@dataclass
class CheckedRow:
    """A row that passed every rule, ready to store."""

    number: int
    values: dict[str, Any]  # normalized, every field
    sent: set[str]  # the fields the row has a value for


class RowWriter(ABC):
    schema: ClassVar[type[BaseModel]]
    key_field: ClassVar[str]  # the field that finds the record a row updates
    key_zh: ClassVar[str]

    def __init__(self, *, clock: Clock, station_id: int, vocabulary: Vocabulary) -> None:
        self.clock = clock
        self.station_id = station_id
        self.vocabulary = vocabulary
        self._seen: dict[str, int] = {}

    @abstractmethod
    def check(self, model: BaseModel, problems: Problems) -> dict[str, Any]:
        """Normalized column values of a valid request model, problems collected."""

    @abstractmethod
    async def load_existing(self, session: AsyncSession, rows: Sequence[CheckedRow]) -> None:
        """Find the stored records ``rows`` update (forgetting those of an earlier chunk)."""

    @abstractmethod
    async def write(self, session: AsyncSession, values: dict[str, Any], sent: set[str]) -> bool:
        """Store one row; True when it created a record, False when it updated one."""

    def claim_key(self, number: int, values: dict[str, Any]) -> ImportRowError | None:
        """The row's key must not repeat within the file: two rows would fight over one record."""
        key = values.get(self.key_field)
        if key is None:
            return None
        first = self._seen.setdefault(key, number)
        if first == number:
            return None
        return ImportRowError(
            row=number,
            field=self.key_field,
            code="duplicate_in_file",
            message=f"与第 {first} 行的{self.key_zh}重复",
            message_en=f"Same {self.key_field} as row {first}",
        )


def _chunks(keys: Iterable[str]) -> Iterable[tuple[str, ...]]:
    iterator = iter(keys)
    while chunk := tuple(itertools.islice(iterator, _CHUNK)):
        yield chunk


class PeopleWriter(RowWriter):
    """A row whose phone is known at the station updates that person; other rows add people."""

    schema = PersonCreate
    key_field = "phone"
    key_zh = "手机号"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._existing: dict[str, Person] = {}

    def check(self, model: BaseModel, problems: Problems) -> dict[str, Any]:
        return person_values_checked(model, self.vocabulary, problems)

    async def load_existing(self, session: AsyncSession, rows: Sequence[CheckedRow]) -> None:
        self._existing = {}
        for chunk in _chunks(row.values["phone"] for row in rows):
            found = await session.scalars(
                select(Person)
                .where(Person.station_id == self.station_id, Person.phone.in_(chunk))
                .options(selectinload(Person.terms))
            )
            self._existing.update((person.phone, person) for person in found)

    async def write(self, session: AsyncSession, values: dict[str, Any], sent: set[str]) -> bool:
        person = self._existing.get(values["phone"])
        if person is None:
            await insert_person(session=session, clock=self.clock, station_id=self.station_id, values=values)
            return True
        changes = {k: v for k, v in values.items() if k in sent}
        await change_person(session=session, clock=self.clock, person=person, values=changes)
        return False


class ResidentWriter(RowWriter):
    """A row whose ID number is known at the station updates that resident; other rows add residents."""

    schema = ResidentCreate
    key_field = "id_number"
    key_zh = "身份证号"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._existing: dict[str, Resident] = {}

    def check(self, model: BaseModel, problems: Problems) -> dict[str, Any]:
        return resident_values_checked(model, self.vocabulary, problems)

    async def load_existing(self, session: AsyncSession, rows: Sequence[CheckedRow]) -> None:
        self._existing = {}
        keys = [row.values["id_number"] for row in rows if row.values.get("id_number")]
        for chunk in _chunks(keys):
            found = await session.scalars(
                select(Resident)
                .where(Resident.station_id == self.station_id, Resident.id_number.in_(chunk))
                .options(selectinload(Resident.category_rows))
            )
            self._existing.update((r.id_number, r) for r in found if r.id_number)

    async def write(self, session: AsyncSession, values: dict[str, Any], sent: set[str]) -> bool:
        resident = self._existing.get(values["id_number"]) if values.get("id_number") else None
        if resident is None:
            await insert_resident(
                session=session, clock=self.clock, station_id=self.station_id, values=values
            )
            return True
        columns = sent | (_BIRTHDAY_COLUMNS if sent & _BIRTHDAY_INPUTS else set())
        changes = {k: v for k, v in values.items() if k in columns}
        await change_resident(session=session, clock=self.clock, resident=resident, values=changes)
        return False
