"""``solve`` on hand-made cases whose optimum is known, several where the greedy baseline misses it."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

import pytest

from coordinator.matching.engine import greedy, solve
from coordinator.matching.model import Weights
from coordinator.matching.scoring import pair_reasons, pair_score

from .matching_builders import LABELS, NOW, PLAIN, assignment, broken_rules, local, person, role

# Places, plus the residents' language: enough to make one person look best everywhere.
LANGUAGE_ONLY = replace(PLAIN, language=3.0)


def test_optimum_moves_the_versatile_person_to_the_role_only_they_can_fill() -> None:
    # A speaks 苗语 (13 at the home visit) and has first aid (the only one for the clinic, same hour).
    # Greedy gives A the home visit (13) and leaves the clinic empty; the optimum is B + A = 20.
    visit = role(1, resident_languages=frozenset({"miao"}))
    clinic = role(2, required_skills=frozenset({"first_aid"}))
    a = person(1, languages=frozenset({"miao"}), skills=frozenset({"first_aid"}))
    b = person(2)
    best = solve([visit, clinic], [a, b], LANGUAGE_ONLY, now=NOW)
    baseline = greedy([visit, clinic], [a, b], LANGUAGE_ONLY, now=NOW)
    assert assignment(best) == {(10, 2), (20, 1)}
    assert best.objective == pytest.approx(20.0)
    assert best.bound == pytest.approx(20.0)
    assert assignment(baseline) == {(10, 1)}
    assert baseline.objective == pytest.approx(13.0)
    assert best.unfilled == {10: 0, 20: 0}
    assert baseline.unfilled == {10: 0, 20: 1}


def test_monthly_maximum_is_spent_where_nobody_else_can_go() -> None:
    # A may take one more event this month; only A is free on the Sunday evening event.
    saturday = role(1, resident_languages=frozenset({"miao"}))
    sunday_evening = role(2, starts_at=local(12, 6, 19))
    a = person(1, languages=frozenset({"miao"}), max_events_per_month=1)
    b = person(2, availability=((5, time(9), time(11)),))  # Saturday morning only
    best = solve([saturday, sunday_evening], [a, b], LANGUAGE_ONLY, now=NOW)
    assert assignment(best) == {(10, 2), (20, 1)}
    assert best.objective == pytest.approx(20.0)
    assert assignment(greedy([saturday, sunday_evening], [a, b], LANGUAGE_ONLY, now=NOW)) == {(10, 1)}


def test_party_member_quota_beats_a_slightly_better_non_member() -> None:
    # One place at a Party drive wanting one Party member: 10 + 4 (quota) beats 10 + 3 (language).
    drive = role(1, resident_languages=frozenset({"miao"}), party_member_quota=1)
    speaker = person(1, languages=frozenset({"miao"}))
    member = person(2, is_party_member=True)
    weights = replace(LANGUAGE_ONLY, party_quota=4.0)
    best = solve([drive], [speaker, member], weights, now=NOW)
    assert assignment(best) == {(10, 2)}
    assert best.objective == pytest.approx(14.0)
    assert best.proposals[0].reasons[0].code == "party_quota"
    assert assignment(greedy([drive], [speaker, member], weights, now=NOW)) == {(10, 1)}


def test_party_quota_rewards_members_only_up_to_the_quota() -> None:
    drive = role(1, places=3, party_member_quota=1)
    members = [person(i, is_party_member=True) for i in (1, 2, 3)]
    result = solve([drive], members, replace(PLAIN, party_quota=4.0), now=NOW)
    assert len(result.proposals) == 3
    assert result.objective == pytest.approx(3 * 10.0 + 4.0)
    assert sum(r.code == "party_quota" for p in result.proposals for r in p.reasons) == 1


def test_zero_party_quota_weight_turns_the_quota_off() -> None:
    drive = role(1, resident_languages=frozenset({"miao"}), party_member_quota=1)
    people = [person(1, languages=frozenset({"miao"})), person(2, is_party_member=True)]
    result = solve([drive], people, replace(LANGUAGE_ONLY, party_quota=0.0), now=NOW)
    assert assignment(result) == {(10, 1)}


def test_language_match_prefers_the_speaker_of_the_residents_language() -> None:
    visit = role(1, resident_languages=frozenset({"miao"}))
    result = solve([visit], [person(1), person(2, languages=frozenset({"miao", "mandarin"}))], now=NOW)
    assert assignment(result) == {(10, 2)}
    codes = [r.code for r in result.proposals[0].reasons]
    assert "language" in codes


def test_fairness_prefers_the_person_asked_least_recently_then_served_least() -> None:
    weights = replace(PLAIN, fairness_recent=1.0, fairness_load=2.0)
    recently_asked = person(1, last_asked_at=NOW - timedelta(days=1))
    long_ago = person(2, last_asked_at=NOW - timedelta(days=40))
    assert assignment(solve([role(1)], [recently_asked, long_ago], weights, now=NOW)) == {(10, 2)}
    busy_quarter = person(3, served_this_quarter=6)
    quiet_quarter = person(4, served_this_quarter=0)
    assert assignment(solve([role(1)], [busy_quarter, quiet_quarter], weights, now=NOW)) == {(10, 4)}


def test_reliability_and_continuity_count() -> None:
    weights = replace(PLAIN, reliability=2.0, continuity=3.0)
    visit = role(1, resident_ids=frozenset({501}))
    flaky, steady = person(1, attendance_rate=0.4), person(2, attendance_rate=0.95)
    assert assignment(solve([role(1)], [flaky, steady], weights, now=NOW)) == {(10, 2)}
    returning = person(3, attendance_rate=0.4, visited_resident_ids=frozenset({501}))
    result = solve([visit], [steady, returning], weights, now=NOW)
    assert assignment(result) == {(10, 3)}
    assert [r.code for r in result.proposals[0].reasons if r.code == "continuity"] == ["continuity"]


def test_extra_skills_beyond_the_minimum_earn_a_bonus() -> None:
    weights = replace(PLAIN, extra_skills=1.5)
    party = role(1, preferred_skills=frozenset({"photography", "cooking"}))
    plain, cook = person(1), person(2, skills=frozenset({"cooking"}))
    result = solve([party], [plain, cook], weights, now=NOW)
    assert assignment(result) == {(10, 2)}
    assert result.objective == pytest.approx(10.0 + 1.5 * 0.5)


def test_fills_every_place_it_can_before_any_preference() -> None:
    # Filling a place (10) outweighs any preference, so the optimum fills both roles.
    roles = [role(1, places=2), role(2, starts_at=local(12, 5, 10))]
    people = [person(i, languages=frozenset({"miao"})) for i in (1, 2, 3)]
    result = solve(roles, people, now=NOW)
    assert len(result.proposals) == 3
    assert result.unfilled == {10: 0, 20: 0}
    assert broken_rules(result, roles, people) == []


def test_score_and_reasons_match_the_reference_functions() -> None:
    visit = role(1, resident_languages=frozenset({"miao"}), preferred_skills=frozenset({"counseling"}))
    speaker = person(
        1, languages=frozenset({"miao"}), skills=frozenset({"counseling"}), last_asked_at=None,
        attendance_rate=None, served_this_quarter=0,
    )  # fmt: skip
    result = solve([visit], [speaker], now=NOW, labels=LABELS)
    proposal = result.proposals[0]
    assert proposal.score == pytest.approx(pair_score(speaker, visit, Weights(), now=NOW))
    assert proposal.reasons == pair_reasons(speaker, visit, now=NOW, labels=LABELS)
    texts = {r.code: (r.text_zh, r.text_en) for r in proposal.reasons}
    assert texts["language"] == ("会说苗语，与服务对象语言相同", "Speaks Miao, the residents' language")
    assert texts["fairness_recent"] == ("此前未被邀请过", "Never asked before")
    assert texts["reliability"][1] == "New volunteer, no attendance history yet"
    assert "extra_skills" in texts


def test_large_instance_reaches_the_bound() -> None:
    # Forty people competing for twelve roles over overlapping slots; the result is proven optimal.
    roles = [
        role(e, places=2, starts_at=local(12, 5 + e % 3, 9 + (e % 4)), resident_languages=frozenset({"miao"}))
        for e in range(1, 13)
    ]
    people = [
        person(
            i,
            languages=frozenset({"miao"} if i % 3 == 0 else {"mandarin"}),
            max_events_per_month=1 + i % 3,
            served_this_quarter=i % 5,
        )
        for i in range(1, 41)
    ]
    best = solve(roles, people, now=NOW)
    baseline = greedy(roles, people, now=NOW)
    assert broken_rules(best, roles, people) == []
    assert best.bound is not None
    assert best.objective == pytest.approx(best.bound, rel=1e-9)
    assert best.objective >= baseline.objective - 1e-9
