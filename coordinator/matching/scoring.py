"""The soft objective of one (candidate, role) pair, and the reasons shown with a proposal.

score = filled_place
      + language        × share of the residents' languages the person speaks
      + extra_skills    × share of the role's preferred skills the person has
      + fairness_recent × days since last asked, capped at 30, / 30 (never asked: 1)
      + fairness_load   × 1 / (1 + events served this quarter)
      + reliability     × attendance rate (no history: 0.5, so newcomers get a fair chance)
      + continuity      × share of the residents to visit whom the person visited before
The Party-member quota is a term of the event (``engine``); ``pairs.py`` computes these on arrays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from coordinator.matching.model import Candidate, Labels, OpenRole, Reason, Weights, joined_labels, label

RECENT_CAP = timedelta(days=30)
NOT_RECENT = timedelta(days=14)
NO_HISTORY_RATE = 0.5
RELIABLE_RATE = 0.9
LITTLE_SERVICE = 1

PARTY_QUOTA_REASON = Reason(
    "party_quota",
    "党员，计入本次活动的党员参与目标",
    "Party member, counts toward the event's Party-member goal",
)


@dataclass(frozen=True)
class Terms:
    """Each soft term as a fraction in [0, 1], before weighting."""

    language: float
    extra_skills: float
    fairness_recent: float
    fairness_load: float
    reliability: float
    continuity: float

    def score(self, weights: Weights) -> float:
        return (
            weights.filled_place
            + weights.language * self.language
            + weights.extra_skills * self.extra_skills
            + weights.fairness_recent * self.fairness_recent
            + weights.fairness_load * self.fairness_load
            + weights.reliability * self.reliability
            + weights.continuity * self.continuity
        )


def _share(have: frozenset[str] | frozenset[int], wanted: frozenset[str] | frozenset[int]) -> float:
    return len(have & wanted) / len(wanted) if wanted else 0.0


def recent_fraction(last_asked_at: datetime | None, now: datetime) -> float:
    if last_asked_at is None:
        return 1.0
    elapsed = min(max((now - last_asked_at).total_seconds(), 0.0), RECENT_CAP.total_seconds())
    return elapsed / RECENT_CAP.total_seconds()


def reliability_fraction(attendance_rate: float | None) -> float:
    if attendance_rate is None:
        return NO_HISTORY_RATE
    return min(max(attendance_rate, 0.0), 1.0)


def pair_terms(candidate: Candidate, role: OpenRole, *, now: datetime) -> Terms:
    return Terms(
        language=_share(candidate.languages, role.resident_languages),
        extra_skills=_share(candidate.skills, role.preferred_skills),
        fairness_recent=recent_fraction(candidate.last_asked_at, now),
        fairness_load=1.0 / (1 + max(candidate.served_this_quarter, 0)),
        reliability=reliability_fraction(candidate.attendance_rate),
        continuity=_share(candidate.visited_resident_ids, role.resident_ids),
    )


def pair_score(candidate: Candidate, role: OpenRole, weights: Weights, *, now: datetime) -> float:
    return pair_terms(candidate, role, now=now).score(weights)


def _requirement_reasons(candidate: Candidate, role: OpenRole, labels: Labels | None) -> list[Reason]:
    reasons: list[Reason] = []
    if role.party_members_only:
        reasons.append(Reason("party_member", "党员，符合岗位要求", "Party member, as the role requires"))
    if role.required_skills:
        zh, en = joined_labels(role.required_skills, labels)
        reasons.append(Reason("required_skills", f"具备所需技能：{zh}", f"Has the required skills: {en}"))
    if role.required_languages:
        zh, en = joined_labels(role.required_languages, labels)
        reasons.append(Reason("required_languages", f"会说所需语言：{zh}", f"Speaks {en} as required"))
    for code in sorted(candidate.languages & role.resident_languages):
        zh, en = label(code, labels)
        reasons.append(
            Reason("language", f"会说{zh}，与服务对象语言相同", f"Speaks {en}, the residents' language")
        )
    if extra := candidate.skills & role.preferred_skills:
        zh, en = joined_labels(extra, labels)
        reasons.append(Reason("extra_skills", f"具备加分技能：{zh}", f"Brings helpful skills: {en}"))
    return reasons


def _continuity_reasons(candidate: Candidate, role: OpenRole) -> list[Reason]:
    visited = len(candidate.visited_resident_ids & role.resident_ids)
    if not visited:
        return []
    if visited == len(role.resident_ids) == 1:
        return [Reason("continuity", "曾走访过该居民", "Visited this resident before")]
    return [
        Reason(
            "continuity",
            f"曾走访过其中{visited}位居民",
            f"Visited {visited} of these {len(role.resident_ids)} residents before",
        )
    ]


def _fairness_reasons(candidate: Candidate, now: datetime) -> list[Reason]:
    reasons: list[Reason] = []
    if candidate.last_asked_at is None:
        reasons.append(Reason("fairness_recent", "此前未被邀请过", "Never asked before"))
    elif now - candidate.last_asked_at >= NOT_RECENT:
        reasons.append(Reason("fairness_recent", "近期未被邀请", "Not asked recently"))
    if candidate.served_this_quarter <= LITTLE_SERVICE:
        reasons.append(Reason("fairness_load", "本季度服务次数较少", "Served little this quarter"))
    rate = candidate.attendance_rate
    if rate is None:
        reasons.append(
            Reason("reliability", "新志愿者，暂无出勤记录", "New volunteer, no attendance history yet")
        )
    elif rate >= RELIABLE_RATE:
        percent = round(rate * 100)
        reasons.append(Reason("reliability", f"出勤率高（{percent}%）", f"Reliable attendance ({percent}%)"))
    return reasons


def pair_reasons(
    candidate: Candidate, role: OpenRole, *, now: datetime, labels: Labels | None = None
) -> list[Reason]:
    """Why this person suits this role, most specific first."""
    return [
        *_requirement_reasons(candidate, role, labels),
        *_continuity_reasons(candidate, role),
        *_fairness_reasons(candidate, now),
    ]
