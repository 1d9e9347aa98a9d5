"""Properties of the engine on random small instances: no hard constraint is ever broken, the
array code agrees with the reference rules, and ``solve`` finds what exhaustive search finds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.matching.constraints import eligible
from coordinator.matching.engine import greedy, solve
from coordinator.matching.model import Candidate, OpenRole, Weights, Window
from coordinator.matching.pairs import NO_CAP, build_pairs
from coordinator.matching.scoring import pair_score

from .matching_builders import NOW, broken_rules, local

SKILLS = ("first_aid", "haircut", "lusheng")
LANGUAGES = ("mandarin", "miao", "dong")
# Saturday 5 December (and one event on Monday 30 November, in the current month).
STARTS = (local(12, 5, 9), local(12, 5, 10), local(12, 5, 14), local(12, 6, 9), local(11, 30, 19))
WINDOWS: tuple[tuple[Window, ...], ...] = (
    tuple((day, time(0), time(0)) for day in range(7)),
    ((5, time(8), time(12)), (6, time(8), time(12))),
    ((5, time(8), time(18)),),
    ((0, time(18), time(22)), (5, time(9), time(11))),
)

codes = st.frozensets(st.sampled_from(SKILLS), max_size=2)
languages = st.frozensets(st.sampled_from(LANGUAGES), max_size=2)
rarely = st.sampled_from((False, False, False, True))
mostly = st.sampled_from((True, True, True, False))


def sometimes_one_of(choices: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    """Empty three times in four, else one of ``choices``: requirements are rare in real stations,
    and with many of them most random pairs would be ineligible and the instances empty."""
    return st.sampled_from((frozenset(),) * 3 * len(choices) + tuple(frozenset({c}) for c in choices))


@st.composite
def roles(draw: st.DrawFn) -> list[OpenRole]:
    out: list[OpenRole] = []
    for event_id in range(1, draw(st.integers(1, 4)) + 1):
        start = draw(st.sampled_from(STARTS))
        length = timedelta(hours=draw(st.sampled_from((1, 2, 3))))
        quota = draw(st.integers(0, 2))
        residents = draw(st.frozensets(st.integers(1, 4), max_size=2))
        for index in range(draw(st.integers(1, 2))):
            out.append(
                OpenRole(
                    event_id=event_id,
                    role_id=event_id * 10 + index,
                    name=f"role{index}",
                    open_places=draw(st.integers(0, 2)),
                    starts_at=start,
                    ends_at=start + length,
                    required_skills=draw(sometimes_one_of(SKILLS)),
                    preferred_skills=draw(codes),
                    required_languages=draw(sometimes_one_of(LANGUAGES)),
                    party_members_only=draw(rarely),
                    resident_languages=draw(languages),
                    resident_ids=residents,
                    party_member_quota=quota,
                )
            )
    return out


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    out = []
    for person_id in range(1, draw(st.integers(2, 5)) + 1):
        busy_start = draw(st.sampled_from((None, *STARTS)))
        asked = draw(st.none() | st.integers(0, 60))
        out.append(
            Candidate(
                person_id=person_id,
                contact_consent=draw(mostly),
                skills=draw(codes),
                languages=draw(languages),
                is_party_member=draw(st.booleans()),
                availability=draw(st.sampled_from((WINDOWS[0], *WINDOWS))),
                busy=() if busy_start is None else ((busy_start, busy_start + timedelta(hours=1)),),
                signed_up_event_ids=draw(st.frozensets(st.integers(1, 4), max_size=1)),
                events_this_month=draw(st.integers(0, 2)),
                events_in_other_months={(2026, 12): draw(st.integers(0, 2))},
                max_events_per_month=draw(st.none() | st.integers(1, 3)),
                last_asked_at=None if asked is None else NOW - timedelta(days=asked),
                served_this_quarter=draw(st.integers(0, 4)),
                attendance_rate=draw(st.none() | st.floats(0.0, 1.0)),
                visited_resident_ids=draw(st.frozensets(st.integers(1, 4), max_size=2)),
            )
        )
    return out


weights = st.builds(
    Weights,
    filled_place=st.just(10.0),
    language=st.floats(0, 5),
    extra_skills=st.floats(0, 5),
    fairness_recent=st.floats(0, 5),
    fairness_load=st.floats(0, 5),
    party_quota=st.floats(0, 5),
    reliability=st.floats(0, 5),
    continuity=st.floats(0, 5),
)

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _objective(
    chosen: Sequence[tuple[OpenRole, Candidate]], weights: Weights, quota: dict[int, int]
) -> float:
    total = sum(pair_score(c, r, weights, now=NOW) for r, c in chosen)
    members: dict[int, int] = defaultdict(int)
    for r, c in chosen:
        members[r.event_id] += c.is_party_member
    return total + weights.party_quota * sum(min(n, quota.get(e, 0)) for e, n in members.items())


def _exhaustive_best(roles: list[OpenRole], people: list[Candidate], weights: Weights) -> float:
    """Try every set of eligible pairs, checking each addition with the reference rules."""
    pairs = [(r, c) for r in roles for c in people if eligible(c, r, now=NOW) is True]
    quota: dict[int, int] = defaultdict(int)
    for r in roles:
        quota[r.event_id] = max(quota[r.event_id], r.party_member_quota)
    best = 0.0

    def extend(index: int, chosen: list[tuple[OpenRole, Candidate]]) -> None:
        nonlocal best
        if index == len(pairs):
            best = max(best, _objective(chosen, weights, quota))
            return
        extend(index + 1, chosen)
        r, c = pairs[index]
        taken = sum(other is r for other, _ in chosen)
        proposed = [other for other, person in chosen if person is c]
        if taken < r.open_places and eligible(c, r, now=NOW, proposed=proposed) is True:
            extend(index + 1, [*chosen, (r, c)])

    extend(0, [])
    return best


@EXAMPLES
@given(roles(), candidates(), weights)
def test_solve_and_greedy_never_break_a_hard_constraint(
    roles: list[OpenRole], people: list[Candidate], weights: Weights
) -> None:
    best = solve(roles, people, weights, now=NOW)
    baseline = greedy(roles, people, weights, now=NOW)
    assert broken_rules(best, roles, people) == []
    assert broken_rules(baseline, roles, people) == []
    assert best.objective >= baseline.objective - 1e-6
    assert best.bound is not None
    assert best.objective <= best.bound + 1e-6


@EXAMPLES
@given(roles(), candidates(), weights)
def test_solve_reaches_the_exhaustive_optimum(
    roles: list[OpenRole], people: list[Candidate], weights: Weights
) -> None:
    pairs = sum(eligible(c, r, now=NOW) is True for r in roles for c in people)
    if pairs > 14:
        return  # exhaustive search doubles with each pair
    assert solve(roles, people, weights, now=NOW).objective == pytest.approx(
        _exhaustive_best(roles, people, weights), abs=1e-6
    )


@EXAMPLES
@given(roles(), candidates(), weights)
def test_array_pairs_equal_the_reference_rules_and_scores(
    roles: list[OpenRole], people: list[Candidate], weights: Weights
) -> None:
    pairs = build_pairs(roles, people, weights, now=NOW)
    found = {
        (int(p), int(r)): (float(s), int(left))
        for p, r, s, left in zip(pairs.person, pairs.role, pairs.score, pairs.remaining, strict=True)
    }
    expected = {
        (p, r)
        for r, role in enumerate(roles)
        for p, person in enumerate(people)
        if eligible(person, role, now=NOW) is True
    }
    assert set(found) == expected
    for (p, r), (score, left) in found.items():
        assert score == pytest.approx(pair_score(people[p], roles[r], weights, now=NOW), abs=1e-9)
        cap = people[p].max_events_per_month
        assert (left == NO_CAP) == (cap is None)
