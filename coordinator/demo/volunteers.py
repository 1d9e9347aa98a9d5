"""The volunteers of a demo station: Party members, social workers, skills, languages, availability.

Everything is drawn from the ``rng`` handed in, so one seed always gives the same people. Each
person gets a "persona" (retiree, working adult, teacher …) that decides their skills and the
weekly hours they can give, so that the sign-ups made later look like a real station's."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coordinator.demo.catalog import DemoStation
from coordinator.demo.names import UniquePhones, person_name

PARTY_MEMBER_SHARE = 0.30
SOCIAL_WORKERS_PER_STATION = 3
# Skills some theme role requires, and how many holders each station needs to staff them.
REQUIRED_SKILL_HOLDERS = {
    "childcare": 12,
    "photography": 4,
    "translation": 5,
    "lusheng": 3,
    "embroidery": 3,
}
_WEEKDAYS = range(5)
_WEEKEND = (5, 6)
_EVERY_DAY = range(7)
QUIET_HOURS = (
    ("22:00", "08:00"),
    ("22:00", "08:00"),
    ("21:00", "07:00"),
    ("21:30", "07:30"),
    ("23:00", "07:00"),
)
MONTHLY_MAXIMA = (2, 3, 4, 4, 5, 6, None)


@dataclass(frozen=True)
class Persona:
    name: str
    weight_town: int
    weight_village: int
    skills: tuple[str, ...]
    # (weekdays, start, end) windows of the week this kind of person can usually give.
    windows: tuple[tuple[range | tuple[int, ...], str, str], ...]


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "retiree",
        5,
        5,
        ("elderly_care", "cooking", "calligraphy", "repair", "singing_dancing", "lusheng", "embroidery"),
        ((_EVERY_DAY, "08:00", "18:00"),),
    ),
    Persona(
        "working_adult",
        5,
        3,
        ("driving", "first_aid", "repair", "cooking", "computer", "legal_aid"),
        ((_WEEKEND, "08:00", "18:00"), (_WEEKDAYS, "19:00", "21:30")),
    ),
    Persona(
        "teacher",
        3,
        2,
        ("tutoring", "childcare", "singing_dancing", "calligraphy", "publicity"),
        ((_WEEKEND, "09:00", "18:00"), ((2,), "14:00", "18:00")),
    ),
    Persona(
        "student",
        3,
        1,
        ("photography", "tutoring", "computer", "publicity", "childcare"),
        ((_WEEKEND, "08:30", "18:00"),),
    ),
    Persona(
        "medical",
        1,
        1,
        ("medical", "first_aid", "elderly_care"),
        ((_WEEKEND, "08:00", "12:30"), ((3,), "14:00", "17:30")),
    ),
    Persona(
        "craftsman",
        1,
        6,
        ("lusheng", "embroidery", "batik", "singing_dancing", "cooking"),
        ((_EVERY_DAY, "07:30", "18:30"),),
    ),
)
_SOCIAL_WORKER = Persona(
    "social_worker",
    0,
    0,
    ("counseling", "first_aid", "elderly_care", "computer", "childcare"),
    ((_WEEKDAYS, "08:30", "17:30"), ((5,), "09:00", "17:30")),
)


@dataclass
class VolunteerPlan:
    """One person to insert; ``index`` identifies them within the station's plan."""

    index: int
    name: str
    phone: str
    female: bool
    persona: str
    is_party_member: bool = False
    party_branch: str | None = None
    is_social_worker: bool = False
    email: str | None = None
    wechat_openid: str | None = None
    consent_sms: bool = True
    consent_wechat: bool = False
    consent_email: bool = False
    channel_order: list[str] = field(default_factory=lambda: ["wechat", "sms", "email"])
    quiet_hours: tuple[str, str] = ("22:00", "08:00")
    max_events_per_month: int | None = None
    availability: list[dict[str, Any]] = field(default_factory=list)
    skills: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=lambda: {"mandarin"})
    joined_days_before: int = 0  # how long before the demo year the person registered

    def is_available(self, weekday: int, start: str, end: str) -> bool:
        """Whether one weekly window covers the local ``start``–``end`` on ``weekday``."""
        return any(
            w["weekday"] == weekday and w["start"] <= start and end <= w["end"] for w in self.availability
        )


def plan_volunteers(station: DemoStation, rng: random.Random, phones: UniquePhones) -> list[VolunteerPlan]:
    people = [_volunteer(station, rng, phones, index) for index in range(station.volunteers)]
    for person in people[:SOCIAL_WORKERS_PER_STATION]:
        _make_social_worker(person, rng)
    for index in rng.sample(range(len(people)), round(len(people) * PARTY_MEMBER_SHARE)):
        person = people[index]
        person.is_party_member = True
        # Most belong to the station's own branch; retirees and civil servants to the others.
        person.party_branch = (
            station.party_branches[0] if rng.random() < 0.6 else rng.choice(station.party_branches)
        )
    _ensure_skill_holders(people, rng)
    return people


def _volunteer(station: DemoStation, rng: random.Random, phones: UniquePhones, index: int) -> VolunteerPlan:
    persona = rng.choices(
        PERSONAS, weights=[p.weight_village if station.is_village else p.weight_town for p in PERSONAS]
    )[0]
    female = rng.random() < 0.6  # most station volunteers are women
    person = VolunteerPlan(
        index=index, name=person_name(rng, female), phone=phones.next(), female=female, persona=""
    )
    _apply_persona(person, persona, rng)
    if rng.random() < station.miao_share:
        person.languages.add("miao")
    if rng.random() < station.dong_share:
        person.languages.add("dong")
    if person.languages & {"miao", "dong"} and rng.random() < 0.35:
        person.skills.add("translation")
    if rng.random() < 0.45:
        person.wechat_openid = "oDEMO" + "".join(
            rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", k=23)
        )
        person.consent_wechat = True
    if rng.random() < 0.2:
        person.email = f"volunteer{index + 1:03d}.{station.code}@example.org"
        person.consent_email = rng.random() < 0.7
    if rng.random() < 0.25:
        person.channel_order = ["sms", "wechat", "email"]
    person.quiet_hours = rng.choice(QUIET_HOURS)
    person.max_events_per_month = rng.choice(MONTHLY_MAXIMA)
    person.joined_days_before = rng.randrange(10, 900)
    return person


def _apply_persona(person: VolunteerPlan, persona: Persona, rng: random.Random) -> None:
    person.persona = persona.name
    person.skills = set(rng.sample(persona.skills, rng.randint(1, min(3, len(persona.skills)))))
    person.availability = [
        {"weekday": day, "start": start, "end": end} for days, start, end in persona.windows for day in days
    ]
    person.availability.sort(key=lambda w: (w["weekday"], w["start"]))


def _make_social_worker(person: VolunteerPlan, rng: random.Random) -> None:
    person.is_social_worker = True
    _apply_persona(person, _SOCIAL_WORKER, rng)
    person.max_events_per_month = None  # home visits are their job, not a favour
    person.email = person.email or f"sw{person.index + 1:02d}@example.org"
    person.consent_email = True


def _ensure_skill_holders(people: list[VolunteerPlan], rng: random.Random) -> None:
    """Give skills to more people until each role that needs a skill can be staffed."""
    for skill, wanted in REQUIRED_SKILL_HOLDERS.items():
        useful = _could_serve_as(skill)
        holders = [p for p in people if skill in p.skills and useful(p)]
        pool = [p for p in people if skill not in p.skills and useful(p)]
        rng.shuffle(pool)
        for person in pool[: max(0, wanted - len(holders))]:
            person.skills.add(skill)


def _could_serve_as(skill: str) -> Callable[[VolunteerPlan], bool]:
    if skill == "translation":
        # Festivals often fall on weekdays: interpreters who are free then are the useful ones.
        return lambda p: bool(p.languages & {"miao", "dong"}) and p.is_available(1, "09:30", "12:30")
    # Heritage teachers, photographers and childcare helpers need free weekends.
    return lambda p: p.is_available(6, "14:30", "17:00")
