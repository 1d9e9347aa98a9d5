"""The hard constraints: who may be proposed for a role at all.

``eligible`` is the one definition of them, pair by pair. The engine checks the same rules on
whole arrays at once (``pairs.py``) and inside the solver (one role per event, no overlapping
events, the monthly maximum across proposals of the same solve); tests hold all of them to this
function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from coordinator.matching.model import Candidate, Labels, OpenRole, Reason, joined_labels
from coordinator.matching.weekly import covers, merged_spans, role_span


class Rejection(Reason):
    """Why someone may not be proposed; false in a boolean test, so ``if eligible(...)`` reads right."""

    def __bool__(self) -> bool:
        return False


def remaining_in_month(candidate: Candidate, role: OpenRole, *, now: datetime) -> int | None:
    """Events the person may still take in the role's month before any proposal; None: no cap."""
    if candidate.max_events_per_month is None:
        return None
    taken = candidate.events_in_month(role.month, current=role.month_of(now))
    return max(0, candidate.max_events_per_month - taken)


def _static(candidate: Candidate, role: OpenRole, labels: Labels | None) -> Rejection | None:
    """The rules about the person and the role alone, before anything is proposed."""
    if None not in (candidate.station_id, role.station_id) and candidate.station_id != role.station_id:
        return Rejection("other_station", "不属于该活动所在的站点", "Belongs to another station")
    if role.event_id in candidate.signed_up_event_ids:
        return Rejection("already_signed_up", "已报名或已受邀参加该活动", "Already signed up or invited")
    if not candidate.contact_consent:
        return Rejection("no_consent", "未同意接收联系", "Has not agreed to be contacted")
    if role.party_members_only and not candidate.is_party_member:
        return Rejection("party_members_only", "该岗位仅限党员", "The role is for Party members only")
    if missing := role.required_skills - candidate.skills:
        zh, en = joined_labels(missing, labels)
        return Rejection("missing_skills", f"缺少所需技能：{zh}", f"Lacks the required skills: {en}")
    if missing := role.required_languages - candidate.languages:
        zh, en = joined_labels(missing, labels)
        return Rejection("missing_languages", f"不会所需语言：{zh}", f"Does not speak: {en}")
    if not covers(merged_spans(candidate.availability), role_span(role)):
        return Rejection("not_available", "该时段不在其可服务时间内", "Not available at that time")
    if any(role.overlaps(start, end) for start, end in candidate.busy):
        return Rejection("busy", "与已确认的其他活动时间冲突", "Busy with another confirmed event then")
    return None


def eligible(
    candidate: Candidate,
    role: OpenRole,
    *,
    now: datetime,
    proposed: Sequence[OpenRole] = (),
    labels: Labels | None = None,
) -> Literal[True] | Rejection:
    """True if ``candidate`` may fill ``role``, given the roles already ``proposed`` to them in
    the same solve; otherwise the first rule broken."""
    if (rejection := _static(candidate, role, labels)) is not None:
        return rejection
    if any(other.event_id == role.event_id for other in proposed):
        return Rejection("same_event", "已被推荐担任该活动的其他岗位", "Already proposed for this event")
    if any(role.overlaps(other.starts_at, other.ends_at) for other in proposed):
        return Rejection(
            "overlapping_proposal", "已被推荐参加同一时间的其他活动", "Already proposed for an event then"
        )
    remaining = remaining_in_month(candidate, role, now=now)
    if remaining is not None and sum(other.month == role.month for other in proposed) >= remaining:
        return Rejection("monthly_limit", "本月活动次数已达上限", "Reached the monthly limit of events")
    return True
