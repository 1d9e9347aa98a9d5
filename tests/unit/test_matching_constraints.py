"""Each hard constraint on its own: ``eligible`` names it, and ``solve`` keeps it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta

import pytest

from coordinator.matching.constraints import Rejection, eligible
from coordinator.matching.engine import greedy, solve
from coordinator.matching.model import MatchResult, OpenRole

from .matching_builders import LABELS, NOW, PLAIN, assignment, local, person, role


def _code(verdict: object) -> str:
    assert isinstance(verdict, Rejection)
    assert not verdict
    return verdict.code


def test_eligible_person_is_true() -> None:
    assert eligible(person(1), role(1), now=NOW) is True


def test_other_station_is_rejected() -> None:
    assert _code(eligible(person(1, station_id=1), role(1, station_id=2), now=NOW)) == "other_station"
    assert eligible(person(1, station_id=None), role(1, station_id=2), now=NOW) is True


def test_no_consent_is_rejected() -> None:
    assert _code(eligible(person(1, contact_consent=False), role(1), now=NOW)) == "no_consent"


def test_event_already_signed_up_for_is_rejected_for_every_role_of_it() -> None:
    signed_up = person(1, signed_up_event_ids=frozenset({1}))
    assert _code(eligible(signed_up, role(1, 11), now=NOW)) == "already_signed_up"
    assert _code(eligible(signed_up, role(1, 12), now=NOW)) == "already_signed_up"
    assert eligible(signed_up, role(2, starts_at=local(12, 5, 14)), now=NOW) is True
    assert _solved([role(1, 11), role(1, 12)], signed_up_event_ids=frozenset({1})) == set()


def test_party_only_role_rejects_non_members() -> None:
    party_role = role(1, party_members_only=True)
    assert _code(eligible(person(1), party_role, now=NOW)) == "party_members_only"
    assert eligible(person(1, is_party_member=True), party_role, now=NOW) is True


def test_missing_skill_is_named_in_both_languages() -> None:
    verdict = eligible(
        person(1, skills=frozenset({"haircut"})),
        role(1, required_skills=frozenset({"first_aid", "haircut"})),
        now=NOW,
        labels={"first_aid": ("急救", "First aid")},
    )
    assert _code(verdict) == "missing_skills"
    assert isinstance(verdict, Rejection)
    assert verdict.text_zh == "缺少所需技能：急救"
    assert verdict.text_en == "Lacks the required skills: First aid"


def test_missing_language_is_rejected() -> None:
    verdict = eligible(person(1), role(1, required_languages=frozenset({"miao"})), now=NOW, labels=LABELS)
    assert _code(verdict) == "missing_languages"
    assert isinstance(verdict, Rejection)
    assert "苗语" in verdict.text_zh


@pytest.mark.parametrize(
    ("windows", "fits"),
    [
        pytest.param(((5, time(9), time(11)),), True, id="exactly-the-window"),
        pytest.param(((5, time(9), time(10, 59)),), False, id="ends-a-minute-early"),
        pytest.param(((6, time(9), time(11)),), False, id="other-weekday"),
        pytest.param(((5, time(8), time(10)), (5, time(10), time(12))), True, id="touching-windows-merge"),
        pytest.param(((5, time(8), time(9, 59)), (5, time(10), time(12))), False, id="gap-between-windows"),
    ],
)
def test_role_must_lie_inside_a_weekly_window(
    windows: tuple[tuple[int, time, time], ...], fits: bool
) -> None:
    saturday_nine_to_eleven = role(1)  # Saturday 5 December, 09:00-11:00 local
    verdict = eligible(person(1, availability=windows), saturday_nine_to_eleven, now=NOW)
    assert (verdict is True) == fits
    if not fits:
        assert _code(verdict) == "not_available"


def test_window_past_midnight_and_over_the_week_end_covers_a_night_role() -> None:
    sunday_night = role(1, starts_at=local(12, 6, 23), ends_at=local(12, 7, 1))  # Sun 23:00 → Mon 01:00
    across = person(1, availability=((6, time(22), time(0)), (0, time(0), time(2))))
    overnight = person(2, availability=((6, time(22), time(3)),))
    evening_only = person(3, availability=((6, time(18), time(0)),))
    assert eligible(across, sunday_night, now=NOW) is True
    assert eligible(overnight, sunday_night, now=NOW) is True
    assert _code(eligible(evening_only, sunday_night, now=NOW)) == "not_available"


def test_busy_interval_overlapping_the_role_is_rejected_and_touching_is_not() -> None:
    event = role(1)
    overlapping = person(
        1, busy=((event.ends_at - timedelta(minutes=1), event.ends_at + timedelta(hours=1)),)
    )
    touching = person(2, busy=((event.ends_at, event.ends_at + timedelta(hours=1)),))
    assert _code(eligible(overlapping, event, now=NOW)) == "busy"
    assert eligible(touching, event, now=NOW) is True


def test_monthly_maximum_counts_the_month_of_the_event() -> None:
    november = role(1, starts_at=local(11, 30, 9))
    december = role(2, starts_at=local(12, 5, 9))
    full_this_month = person(1, max_events_per_month=2, events_this_month=2)
    assert _code(eligible(full_this_month, november, now=NOW)) == "monthly_limit"
    assert eligible(full_this_month, december, now=NOW) is True
    full_next_month = person(2, max_events_per_month=2, events_in_other_months={(2026, 12): 2})
    assert eligible(full_next_month, november, now=NOW) is True
    assert _code(eligible(full_next_month, december, now=NOW)) == "monthly_limit"
    assert eligible(person(3, max_events_per_month=None, events_this_month=99), november, now=NOW) is True


def test_proposals_of_the_same_solve_count_against_rules() -> None:
    first = role(1, 11)
    same_event = role(1, 12, name="摄影")
    overlapping = role(2, starts_at=first.starts_at + timedelta(hours=1))
    later_same_month = role(3, starts_at=local(12, 19, 9))
    capped = person(1, max_events_per_month=1)
    assert _code(eligible(capped, same_event, now=NOW, proposed=[first])) == "same_event"
    assert _code(eligible(capped, overlapping, now=NOW, proposed=[first])) == "overlapping_proposal"
    assert _code(eligible(capped, later_same_month, now=NOW, proposed=[first])) == "monthly_limit"
    assert eligible(person(2, max_events_per_month=2), later_same_month, now=NOW, proposed=[first]) is True


def _solved(roles: list[OpenRole], **fields: object) -> set[tuple[int, int]]:
    return assignment(solve(roles, [person(1, **fields)], PLAIN, now=NOW))


def test_solve_gives_a_person_one_role_per_event() -> None:
    assert len(_solved([role(1, 11), role(1, 12)])) == 1


def test_solve_never_gives_a_person_overlapping_events() -> None:
    morning = role(1)
    overlapping = role(2, starts_at=morning.starts_at + timedelta(hours=1))
    right_after = role(3, starts_at=morning.ends_at)
    proposals = _solved([morning, overlapping, right_after])
    assert len(proposals) == 2
    assert (30, 1) in proposals


def test_solve_counts_proposals_against_the_monthly_maximum_per_month() -> None:
    roles = [
        role(1, starts_at=local(12, 5, 9)),
        role(2, starts_at=local(12, 12, 9)),
        role(3, starts_at=local(12, 19, 9)),
        role(4, starts_at=local(1, 9, 9, year=2027)),
        role(5, starts_at=local(1, 16, 9, year=2027)),
    ]
    proposals = _solved(roles, max_events_per_month=2, events_in_other_months={(2027, 1): 1})
    months = sorted(r.month for r in roles if (r.role_id, 1) in proposals)
    assert months == [(2026, 12), (2026, 12), (2027, 1)]


@pytest.mark.parametrize("run", [solve, greedy])
def test_nobody_eligible_leaves_the_role_unfilled(run: Callable[..., MatchResult]) -> None:
    result = run([role(1, places=3)], [person(1, contact_consent=False)], PLAIN, now=NOW)
    assert result.proposals == []
    assert result.unfilled == {10: 3}
    assert result.objective == 0.0


def test_no_roles_and_no_people_give_an_empty_result() -> None:
    assert solve([], [person(1)], now=NOW).proposals == []
    assert solve([role(1)], [], now=NOW).unfilled == {10: 1}
