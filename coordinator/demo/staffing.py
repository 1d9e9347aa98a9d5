"""Who signed up for which demo activity, under the same rules a real station's sign-ups obey.

- a person takes a role only if they meet it: Party members for Party-only roles, the role's
  skills, social workers for the 社工 role, a 苗语 or 侗语 speaker for translation;
- only when their weekly availability covers the activity, never for two activities that overlap
  (a waitlisted place counts: it may be promoted), and within their monthly maximum;
- at most one sign-up per person per activity; confirmed places never exceed a role's count,
  waitlist positions are 1, 2, 3 … in arrival order;
- the least busy eligible people are asked first, so the work spreads as a station spreads it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from coordinator.demo.activities import ActivityPlan
from coordinator.demo.volunteers import VolunteerPlan
from coordinator.events.models import EventStatus, SignupSource, SignupStatus
from coordinator.events.themes import RoleTemplate

_SOURCES = (
    SignupSource.self,
    SignupSource.self,
    SignupSource.self,
    SignupSource.organizer,
    SignupSource.matcher,
)
_POPULAR_THEMES = {"birthday_party", "festival_visit"}
_TRANSLATION_SKILL = "translation"
_SOCIAL_WORKER_ROLE = "社工"


@dataclass
class SignupPlan:
    activity: int  # index into the station's activities
    role: int  # index into the activity's roles
    person: int  # index into the station's volunteers
    status: SignupStatus
    source: SignupSource
    created_at: datetime
    waitlist_seq: int | None = None
    cancelled_at: datetime | None = None


@dataclass
class RoleTally:
    confirmed: int = 0
    waitlisted: int = 0
    next_waitlist_seq: int = 1


@dataclass
class Staffing:
    signups: list[SignupPlan] = field(default_factory=list)
    # (activity index, role index) → counters to store on the role row.
    tallies: dict[tuple[int, int], RoleTally] = field(default_factory=lambda: defaultdict(RoleTally))


def meets_role(person: VolunteerPlan, role: RoleTemplate) -> bool:
    if role.party_members_only and not person.is_party_member:
        return False
    if not set(role.skills) <= person.skills:
        return False
    if role.languages and not set(role.languages) & person.languages:
        return False
    if _TRANSLATION_SKILL in role.skills and not person.languages & {"miao", "dong"}:
        return False
    return role.name != _SOCIAL_WORKER_ROLE or person.is_social_worker


def staff_activities(
    activities: list[ActivityPlan], people: list[VolunteerPlan], rng: random.Random, now: datetime
) -> Staffing:
    staffing = Staffing()
    booked: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    per_month: dict[tuple[int, str], int] = defaultdict(int)
    total: dict[int, int] = defaultdict(int)
    for a_index, activity in enumerate(activities):
        month = activity.month

        def free(person: VolunteerPlan, activity: ActivityPlan = activity) -> bool:
            limit = person.max_events_per_month
            return (
                person.is_available(activity.weekday, activity.local_start, activity.local_end)
                and (limit is None or per_month[(person.index, activity.month)] < limit)
                and all(activity.ends_at <= s or e <= activity.starts_at for s, e in booked[person.index])
            )

        taken: set[int] = set()
        eligible = {
            r: [p for p in people if meets_role(p, role) and free(p)] for r, role in enumerate(activity.roles)
        }
        # The roles few people can fill go first, so an open role does not use up the only teacher.
        for r_index in sorted(eligible, key=lambda r: len(eligible[r])):
            role = activity.roles[r_index]
            candidates = [p for p in eligible[r_index] if p.index not in taken]
            rng.shuffle(candidates)
            candidates.sort(key=lambda p: (per_month[(p.index, month)], total[p.index]))
            confirmed, waiting = _how_many(activity, role, rng, now)
            chosen = candidates[: confirmed + waiting]
            for position, person in enumerate(chosen):
                status = SignupStatus.confirmed if position < confirmed else SignupStatus.waitlisted
                _add(staffing, a_index, r_index, person, status, activity, rng, now)
                taken.add(person.index)
                booked[person.index].append((activity.starts_at, activity.ends_at))
                per_month[(person.index, month)] += 1
                total[person.index] += 1
            if chosen and rng.random() < 0.08:
                # Someone signed up earlier and then cancelled; their place went to another.
                withdrawn = [p for p in candidates[len(chosen) :] if p.index not in taken]
                if withdrawn:
                    _add(staffing, a_index, r_index, withdrawn[0], SignupStatus.cancelled, activity, rng, now)
                    taken.add(withdrawn[0].index)
    return staffing


def _how_many(
    activity: ActivityPlan, role: RoleTemplate, rng: random.Random, now: datetime
) -> tuple[int, int]:
    """(confirmed, waitlisted) wanted: past roles nearly full, far-off ones still filling up."""
    days_ahead = (activity.starts_at - now).days
    if days_ahead < 0 or activity.status is EventStatus.completed:
        share = rng.uniform(0.75, 1.0)
    elif days_ahead <= 14:
        share = rng.uniform(0.6, 1.0)
    else:
        share = rng.uniform(0.2, 0.7)
    if activity.theme in _POPULAR_THEMES and rng.random() < 0.5:
        share = 1.0
    confirmed = max(1, round(role.count * share))
    full = confirmed >= role.count
    waiting = rng.choice((1, 1, 2, 3)) if full and role.count > 1 and rng.random() < 0.35 else 0
    return min(confirmed, role.count), waiting


def _add(
    staffing: Staffing,
    a_index: int,
    r_index: int,
    person: VolunteerPlan,
    status: SignupStatus,
    activity: ActivityPlan,
    rng: random.Random,
    now: datetime,
) -> None:
    # Signed up between the publication and two hours before the start, and never after "now".
    assert activity.published_at is not None
    latest = min(activity.starts_at - timedelta(hours=2), now - timedelta(minutes=5))
    if activity.cancelled_at is not None:
        latest = min(latest, activity.cancelled_at - timedelta(minutes=5))
    created_at = (activity.published_at + (latest - activity.published_at) * rng.random()).replace(
        microsecond=0
    )
    tally = staffing.tallies[(a_index, r_index)]
    plan = SignupPlan(a_index, r_index, person.index, status, rng.choice(_SOURCES), created_at)
    if status is SignupStatus.confirmed:
        tally.confirmed += 1
    elif status is SignupStatus.waitlisted:
        plan.waitlist_seq = tally.next_waitlist_seq
        tally.next_waitlist_seq += 1
        tally.waitlisted += 1
    else:
        plan.cancelled_at = (created_at + (latest - created_at) / 2).replace(microsecond=0)
    staffing.signups.append(plan)
