"""Matching benchmark: 5,000 people × 500 events (2,000 places) over one month, five stations.

Run: ``python bench/matching.py [seed]``. Prints how long ``solve`` takes (goal ≤ 2 s on one core), its
objective against the greedy baseline, and one summary line at the end.
"""

from __future__ import annotations

import os

# One core, as the goal says: pin the process and keep BLAS/OpenMP from spawning threads.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import random  # noqa: E402
import sys  # noqa: E402
import time as timer  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import UTC, datetime, time, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coordinator.matching.engine import greedy, solve  # noqa: E402
from coordinator.matching.model import Candidate, MatchResult, OpenRole, Window  # noqa: E402

SEED = 20261129
STATIONS = 5
PEOPLE_PER_STATION = 1_000
EVENTS_PER_STATION = 100
PLACES_PER_STATION = 400
GOAL_SECONDS = 2.0
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
DECEMBER = (2026, 12)
SKILLS = (
    "first_aid", "haircut", "photography", "tutoring", "counseling", "lusheng", "elderly_care",
    "cooking", "driving", "medical", "singing_dancing", "embroidery", "publicity", "translation",
)  # fmt: skip

# theme → [(role name, places, required skills, preferred skills, needs a minority language)]
THEMES: dict[str, list[tuple[str, int, frozenset[str], frozenset[str], bool]]] = {
    "birthday_party": [
        ("主持", 1, frozenset(), frozenset({"publicity"}), False),
        ("志愿者", 3, frozenset(), frozenset({"cooking", "photography"}), False),
    ],
    "festival_visit": [("慰问志愿者", 5, frozenset(), frozenset({"elderly_care"}), True)],
    "party_volunteer_drive": [
        ("党员志愿者", 3, frozenset(), frozenset({"publicity"}), False),
        ("志愿者", 2, frozenset(), frozenset(), False),
    ],
    "home_visit": [("走访社工", 2, frozenset(), frozenset({"counseling", "medical"}), True)],
    "heritage": [
        ("芦笙老师", 1, frozenset({"lusheng"}), frozenset(), False),
        ("助教", 3, frozenset(), frozenset({"embroidery"}), False),
    ],
}
SLOTS = ((time(9), 2), (time(9, 30), 3), (time(14), 2), (time(14, 30), 3), (time(19), 2))


def _local(day: int, at: time) -> datetime:
    return datetime(2026, 12, day, at.hour, at.minute, tzinfo=ZONE)


def _events(rng: random.Random, station: int, first_id: int) -> list[OpenRole]:
    """About 100 events of about 400 places; weekends busier; ids from ``first_id``."""
    roles: list[OpenRole] = []
    weekend = [d for d in range(1, 32) if datetime(2026, 12, d).weekday() >= 5]
    for index in range(EVENTS_PER_STATION):
        theme = rng.choice(list(THEMES))
        day = rng.choice(weekend) if rng.random() < 0.5 else rng.randint(1, 31)
        at, hours = rng.choice(SLOTS)
        start = _local(day, at)
        minority = rng.choice(("miao", "dong", "miao"))
        residents = frozenset(rng.sample(range(station * 1000, station * 1000 + 300), 2))
        for name, places, required, preferred, language in THEMES[theme]:
            roles.append(
                OpenRole(
                    event_id=first_id + index,
                    role_id=first_id * 10 + len(roles),
                    name=name,
                    open_places=places,
                    starts_at=start.astimezone(UTC),
                    ends_at=(start + timedelta(hours=hours)).astimezone(UTC),
                    station_id=station,
                    required_skills=required,
                    preferred_skills=preferred,
                    required_languages=frozenset({minority})
                    if language and rng.random() < 0.3
                    else frozenset(),
                    party_members_only=theme == "party_volunteer_drive" and name == "党员志愿者",
                    resident_languages=frozenset({"mandarin", minority}) if language else frozenset(),
                    resident_ids=residents if theme == "home_visit" else frozenset(),
                    theme=theme,
                    party_member_quota=4 if theme == "party_volunteer_drive" else 0,
                )
            )
    return _trim(roles, PLACES_PER_STATION)


def _trim(roles: list[OpenRole], places: int) -> list[OpenRole]:
    """Spread a difference of places one by one over the last roles so the total is ``places``."""
    out = list(roles)
    total = sum(r.open_places for r in out)
    index = len(out) - 1
    while total != places:
        step = 1 if total < places else -1
        if out[index].open_places + step >= 1:
            out[index] = replace(out[index], open_places=out[index].open_places + step)
            total += step
        index = index - 1 if index > 0 else len(out) - 1
    return out


def _availability(rng: random.Random) -> tuple[Window, ...]:
    kind = rng.random()
    if kind < 0.35:  # weekends, and one evening in the week
        return (
            (5, time(8), time(21, 30)),
            (6, time(8), time(21, 30)),
            (rng.randint(0, 4), time(18), time(22)),
        )
    if kind < 0.65:  # working people: evenings and Saturday mornings
        return (*((d, time(18), time(22)) for d in range(5)), (5, time(8), time(12)))
    if kind < 0.9:  # retirees: mornings and afternoons of four days
        days = rng.sample(range(7), 4)
        return tuple(
            (d, start, end) for d in days for start, end in ((time(8), time(12, 30)), (time(14), time(18)))
        )
    return tuple((d, time(8), time(21, 30)) for d in range(7))  # free any day


def _busy(rng: random.Random) -> tuple[tuple[datetime, datetime], ...]:
    out = []
    for _ in range(rng.randint(0, 3)):
        start = _local(rng.randint(1, 31), time(rng.choice((9, 14, 19))))
        out.append((start.astimezone(UTC), (start + timedelta(hours=2)).astimezone(UTC)))
    return tuple(out)


def _person(rng: random.Random, person_id: int, station: int) -> Candidate:
    languages = {"mandarin"} if rng.random() < 0.95 else set()
    languages |= {"miao"} if rng.random() < 0.3 else set()
    languages |= {"dong"} if rng.random() < 0.15 else set()
    lusheng = {"lusheng"} if rng.random() < 0.1 else set()
    asked = None if rng.random() < 0.2 else NOW - timedelta(days=rng.uniform(0, 60))
    return Candidate(
        person_id=person_id,
        contact_consent=rng.random() < 0.92,
        station_id=station,
        skills=frozenset(rng.sample(SKILLS, rng.randint(0, 3))) | lusheng,
        languages=frozenset(languages),
        is_party_member=rng.random() < 0.25,
        availability=_availability(rng),
        busy=_busy(rng),
        events_this_month=rng.randint(0, 4),
        events_in_other_months={DECEMBER: rng.randint(0, 1)},
        max_events_per_month=None if rng.random() < 0.3 else rng.randint(2, 6),
        last_asked_at=asked,
        served_this_quarter=rng.randint(0, 10),
        attendance_rate=None if rng.random() < 0.2 else rng.uniform(0.5, 1.0),
        visited_resident_ids=frozenset(
            rng.sample(range(station * 1000, station * 1000 + 300), rng.randint(0, 4))
        ),
    )


def generate(seed: int = SEED) -> tuple[list[OpenRole], list[Candidate]]:
    rng = random.Random(seed)
    roles = [r for s in range(STATIONS) for r in _events(rng, s, first_id=s * 1000 + 1)]
    people = [
        _person(rng, s * PEOPLE_PER_STATION + i + 1, s)
        for s in range(STATIONS)
        for i in range(PEOPLE_PER_STATION)
    ]
    return roles, people


def _timed(run: str, roles: list[OpenRole], people: list[Candidate]) -> tuple[MatchResult, float, float]:
    """The result, wall-clock seconds and CPU seconds (the latter barely moves when the machine is busy)."""
    started, cpu_started = timer.perf_counter(), timer.process_time()
    result = (solve if run == "solve" else greedy)(roles, people, now=NOW)
    return result, timer.perf_counter() - started, timer.process_time() - cpu_started


def main() -> None:
    roles, people = generate(int(sys.argv[1]) if len(sys.argv) > 1 else SEED)
    places = sum(r.open_places for r in roles)
    events = len({r.event_id for r in roles})
    print(f"instance: {len(people)} people, {events} events, {len(roles)} roles, {places} places")
    optimal, seconds, cpu = _timed("solve", roles, people)
    baseline, greedy_seconds, _ = _timed("greedy", roles, people)
    filled = len(optimal.proposals)
    ratio = optimal.objective / baseline.objective if baseline.objective else float("inf")
    print(
        f"solve:  {seconds:.2f}s ({cpu:.2f}s CPU), objective {optimal.objective:.1f}, "
        f"bound {optimal.bound:.1f}, filled {filled}"
    )
    print(
        f"greedy: {greedy_seconds:.2f}s, objective {baseline.objective:.1f}, filled {len(baseline.proposals)}"
    )
    print(
        f"matching: solve {seconds:.2f}s, {cpu:.2f}s CPU (goal ≤ {GOAL_SECONDS:.0f}s), "
        f"objective {optimal.objective:.1f} "
        f"vs greedy {baseline.objective:.1f} ({ratio:.3f}×), filled {filled}/{places}"
    )


if __name__ == "__main__":
    main()
