"""Builders of matching-engine inputs for the matching tests: short to write, easy to vary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from coordinator.matching.constraints import eligible
from coordinator.matching.model import Candidate, MatchResult, OpenRole, Weights, Window

ZONE = ZoneInfo("Asia/Shanghai")
# Sunday 29 November 2026, 10:00 in Kaili.
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
ANY_TIME: tuple[Window, ...] = tuple((day, time(0), time(0)) for day in range(7))
LABELS = {"miao": ("苗语", "Miao"), "dong": ("侗语", "Dong"), "mandarin": ("普通话", "Mandarin")}
# Only the place counts: hand-made cases then have objectives one can add up by hand.
PLAIN = Weights(
    filled_place=10.0,
    language=0.0,
    extra_skills=0.0,
    fairness_recent=0.0,
    fairness_load=0.0,
    party_quota=0.0,
    reliability=0.0,
    continuity=0.0,
)


def local(month: int, day: int, hour: int, minute: int = 0, *, year: int = 2026) -> datetime:
    """An instant given in Kaili time, as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def person(person_id: int, **fields: Any) -> Candidate:
    values: dict[str, Any] = {
        "person_id": person_id,
        "contact_consent": True,
        "availability": ANY_TIME,
        "languages": frozenset({"mandarin"}),
        "last_asked_at": NOW - timedelta(days=60),
        "attendance_rate": 0.8,
    }
    return Candidate(**(values | fields))


def role(event_id: int, role_id: int | None = None, *, places: int = 1, **fields: Any) -> OpenRole:
    """A role of a two-hour event on Saturday 5 December 2026, 09:00 Kaili time, unless told."""
    starts_at = fields.pop("starts_at", local(12, 5, 9))
    values: dict[str, Any] = {
        "event_id": event_id,
        "role_id": role_id if role_id is not None else event_id * 10,
        "name": "志愿者",
        "open_places": places,
        "starts_at": starts_at,
        "ends_at": fields.pop("ends_at", starts_at + timedelta(hours=2)),
    }
    return OpenRole(**(values | fields))


def assignment(result: MatchResult) -> set[tuple[int, int]]:
    """(role_id, person_id) of each proposal."""
    return {(p.role_id, p.person_id) for p in result.proposals}


def broken_rules(
    result: MatchResult, roles: Sequence[OpenRole], candidates: Sequence[Candidate]
) -> list[str]:
    """Every hard constraint the result breaks, checked against the reference definition."""
    by_role = {r.role_id: r for r in roles}
    by_person = {c.person_id: c for c in candidates}
    problems: list[str] = []
    proposed: dict[int, list[OpenRole]] = {}
    for proposal in sorted(result.proposals, key=lambda p: by_role[p.role_id].starts_at):
        role_, candidate = by_role[proposal.role_id], by_person[proposal.person_id]
        verdict = eligible(candidate, role_, now=NOW, proposed=proposed.get(candidate.person_id, []))
        if verdict is not True:
            problems.append(f"person {candidate.person_id} role {role_.role_id}: {verdict.code}")
        proposed.setdefault(candidate.person_id, []).append(role_)
    for role_ in roles:
        taken = sum(p.role_id == role_.role_id for p in result.proposals)
        if taken > role_.open_places:
            problems.append(f"role {role_.role_id} over capacity: {taken}")
        if result.unfilled[role_.role_id] != role_.open_places - taken:
            problems.append(f"role {role_.role_id} unfilled count wrong")
    return problems
