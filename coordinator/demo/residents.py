"""The support ledger (台账) of a demo station, household by household.

Residents come in households as a station meets them: a grandparent raising two left-behind
grandchildren, an empty-nest couple, a 低保 family with a disabled member, a migrant family in
town. Elderly residents mostly keep a lunar birthday and some know only its month and day."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from lunar_python import LunarYear, Solar

from coordinator.demo.catalog import DemoStation
from coordinator.demo.names import SURNAMES, UniquePhones, id_number, person_name

Member = tuple[int, int, tuple[str, ...]]  # (youngest age, oldest age, categories)


@dataclass
class ResidentPlan:
    name: str
    female: bool
    categories: tuple[str, ...]
    birth_year: int | None
    birth_month: int
    birth_day: int
    birthday_is_lunar: bool
    language: str
    household: str
    address: str
    phone: str | None = None
    id_number: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class HouseholdKind:
    weight_town: int
    weight_village: int
    build: Callable[[random.Random], list[Member]]
    notes: tuple[str, ...] = field(default=())


def _left_behind(rng: random.Random) -> list[Member]:
    carer: Member = (
        (60, 82, ("left_behind_elderly",)) if rng.random() < 0.7 else (26, 45, ("left_behind_woman",))
    )
    children: list[Member] = [(5, 15, ("left_behind_child",)) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    if rng.random() < 0.2:
        children[0] = (5, 15, ("left_behind_child", "child_in_difficulty"))
    return [carer, *children]


def _empty_nest(rng: random.Random) -> list[Member]:
    extra = rng.choice(((), (), ("low_income",), ("disabled",)))
    return [(62, 90, ("empty_nest_elderly", *extra)) for _ in range(rng.choice((1, 2, 2)))]


def _low_income(rng: random.Random) -> list[Member]:
    members: list[Member] = [(35, 68, ("low_income",))]
    if rng.random() < 0.35:
        members.append((20, 70, ("low_income", "disabled")))
    if rng.random() < 0.4:
        members.append((4, 16, ("low_income", "child_in_difficulty")))
    return members


def _extreme_poverty(rng: random.Random) -> list[Member]:
    return [(55, 88, ("extreme_poverty", "disabled") if rng.random() < 0.3 else ("extreme_poverty",))]


def _child_in_difficulty(rng: random.Random) -> list[Member]:
    return [(3, 16, ("child_in_difficulty",)) for _ in range(rng.choice((1, 1, 2)))]


def _disabled(rng: random.Random) -> list[Member]:
    return [(18, 75, ("disabled", "low_income") if rng.random() < 0.4 else ("disabled",))]


def _migrant(rng: random.Random) -> list[Member]:
    parents: list[Member] = [(24, 48, ("migrant_worker",)) for _ in range(rng.choice((1, 2)))]
    return parents + [(6, 15, ("migrant_child",)) for _ in range(rng.choice((1, 1, 2)))]


HOUSEHOLD_KINDS: tuple[HouseholdKind, ...] = (
    HouseholdKind(4, 9, _left_behind),
    HouseholdKind(4, 4, _empty_nest),
    HouseholdKind(3, 3, _low_income),
    HouseholdKind(1, 2, _extreme_poverty),
    HouseholdKind(2, 2, _child_in_difficulty),
    HouseholdKind(2, 2, _disabled),
    HouseholdKind(4, 0, _migrant),
)
_NOTES = {
    "disabled": ("二级肢体残疾，行动不便", "视力残疾，需专人陪同", "听力残疾，可用手语交流"),
    "empty_nest_elderly": ("子女在浙江务工，每月电话联系", "独居，患高血压，需定期随访"),
    "left_behind_child": ("父母在广东务工，由祖辈照顾", "成绩中等，喜欢画画"),
    "extreme_poverty": ("分散供养", "集中供养意愿低，希望在家养老"),
}


def plan_residents(
    station: DemoStation, rng: random.Random, phones: UniquePhones, today: date
) -> list[ResidentPlan]:
    residents: list[ResidentPlan] = []
    seen_ids: set[str] = set()
    weights = [k.weight_village if station.is_village else k.weight_town for k in HOUSEHOLD_KINDS]
    house = 0
    while len(residents) < station.residents:
        house += 1
        kind = rng.choices(HOUSEHOLD_KINDS, weights=weights)[0]
        members = kind.build(rng)[: station.residents - len(residents)]
        surname = rng.choice(SURNAMES)
        address = f"{station.short_name}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        language = _household_language(station, rng)
        head = None
        for low, high, categories in members:
            resident = _resident(rng, phones, today, surname, (low, high), categories, language, seen_ids)
            head = head or resident.name
            resident.household = f"{head}户"
            resident.address = address
            residents.append(resident)
    return residents


def _household_language(station: DemoStation, rng: random.Random) -> str:
    draw = rng.random()
    if draw < station.miao_share:
        return "miao"
    if draw < station.miao_share + station.dong_share:
        return "dong"
    return "southwestern_mandarin" if rng.random() < 0.5 else "mandarin"


def _resident(
    rng: random.Random,
    phones: UniquePhones,
    today: date,
    surname: str,
    ages: tuple[int, int],
    categories: tuple[str, ...],
    household_language: str,
    seen_ids: set[str],
) -> ResidentPlan:
    female = rng.random() < (0.9 if "left_behind_woman" in categories else 0.5)
    age = rng.randint(*ages)
    born = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    elderly = age >= 55
    # Children at school speak Mandarin; their grandparents often only the household's language.
    language = household_language if elderly or rng.random() < 0.3 else "mandarin"
    resident = ResidentPlan(
        name=surname + person_name(rng, female)[1:],
        female=female,
        categories=categories,
        birth_year=born.year,
        birth_month=born.month,
        birth_day=born.day,
        birthday_is_lunar=False,
        language=language,
        household="",
        address="",
    )
    if elderly and rng.random() < 0.7:
        # The ledger keeps the lunar birthday the family celebrates; the ID card has the solar date.
        resident.birthday_is_lunar = True
        born = lunar_to_solar(born.year, born.month, born.day)
    if elderly and rng.random() < 0.15:
        resident.birth_year = None  # only the month and day are known
    else:
        resident.id_number = _unique_id(rng, born, female, seen_ids)
    if age >= 18 and rng.random() < (0.5 if elderly else 0.85):
        resident.phone = phones.next()
    if rng.random() < 0.25:
        for category in categories:
            if category in _NOTES:
                resident.notes = rng.choice(_NOTES[category])
                break
    return resident


def _unique_id(rng: random.Random, born: date, female: bool, seen: set[str]) -> str:
    while True:
        number = id_number(rng, born, female)
        if number not in seen:
            seen.add(number)
            return number


def lunar_to_solar(year: int, month: int, day: int) -> date:
    """The solar date of a (non-leap) lunar date. lunar-python caches only the last lunar year it
    computed, which makes a ledger of random birth years slow; this keeps every year it meets."""
    first = _lunar_year(year).getMonth(month).getFirstJulianDay()
    solar = Solar.fromJulianDay(first + day - 1)
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@functools.cache
def _lunar_year(year: int) -> LunarYear:
    return LunarYear(year)
