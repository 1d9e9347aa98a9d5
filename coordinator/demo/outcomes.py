"""What happened at the demo's completed activities: who came (attendance) and whom they served.

About 85 % of the confirmed people came (a few of them late), the others told the station they
could not come (``absent``) or never turned up (``no_show``). Most checked in by QR code, the rest
were ticked on the organizer's roster; some forgot to check out. Residents served are named for
visits, birthday parties and heritage classes, counted by head for the rest."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from coordinator.attendance.models import AttendanceMethod, AttendanceStatus
from coordinator.demo.activities import ActivityPlan
from coordinator.demo.residents import ResidentPlan
from coordinator.demo.staffing import Staffing
from coordinator.events.models import EventStatus, SignupStatus

_CHILDREN = {"left_behind_child", "child_in_difficulty", "migrant_child"}
# (named residents, anonymous headcount) ranges per theme.
_SERVED = {
    "home_visit": ((2, 5), (0, 0)),
    "festival_visit": ((8, 18), (0, 12)),
    "heritage": ((4, 10), (0, 8)),
    "party_volunteer_drive": ((0, 0), (20, 60)),
}


@dataclass(frozen=True)
class AttendancePlan:
    activity: int
    person: int
    status: AttendanceStatus
    method: AttendanceMethod | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    recorded_at: datetime

    def minutes(self, activity: ActivityPlan) -> int:
        """As ``attendance.recording.compute_minutes``: check-in to check-out (or the end), capped."""
        if self.status not in (AttendanceStatus.present, AttendanceStatus.late) or self.checked_in_at is None:
            return 0
        seconds = ((self.checked_out_at or activity.ends_at) - self.checked_in_at).total_seconds()
        cap = (activity.ends_at - activity.starts_at).total_seconds()
        return int(max(0.0, min(seconds, cap)) // 60)


@dataclass(frozen=True)
class ServedPlan:
    activity: int
    residents: tuple[int, ...]  # indexes into the station's residents
    headcount: int


def plan_attendance(
    activities: list[ActivityPlan], staffing: Staffing, rng: random.Random
) -> list[AttendancePlan]:
    found: list[AttendancePlan] = []
    for signup in staffing.signups:
        activity = activities[signup.activity]
        if activity.status is not EventStatus.completed or signup.status is not SignupStatus.confirmed:
            continue
        found.append(_attendance(signup.activity, signup.person, activity, rng))
    return found


def _attendance(a_index: int, person: int, activity: ActivityPlan, rng: random.Random) -> AttendancePlan:
    draw = rng.random()
    start, end = activity.starts_at, activity.ends_at
    completed = end + timedelta(minutes=5)
    if draw >= 0.85:
        status = AttendanceStatus.no_show if draw >= 0.93 else AttendanceStatus.absent
        return AttendancePlan(
            a_index,
            person,
            status,
            None if status is AttendanceStatus.no_show else AttendanceMethod.roster,
            None,
            None,
            completed,
        )
    late = draw >= 0.77
    checked_in = start + timedelta(minutes=rng.randint(15, 50) if late else -rng.randint(0, 20))
    checked_out = None if rng.random() < 0.1 else end + timedelta(minutes=rng.randint(-15, 20))
    method = AttendanceMethod.qr if rng.random() < 0.65 else AttendanceMethod.roster
    status = AttendanceStatus.late if late else AttendanceStatus.present
    return AttendancePlan(a_index, person, status, method, checked_in, checked_out, checked_in)


def plan_served(
    activities: list[ActivityPlan], residents: list[ResidentPlan], rng: random.Random
) -> list[ServedPlan]:
    found: list[ServedPlan] = []
    for a_index, activity in enumerate(activities):
        if activity.status is not EventStatus.completed:
            continue
        targets = [i for i, r in enumerate(residents) if set(r.categories) & set(activity.served_categories)]
        if activity.theme == "birthday_party":
            month = int(activity.month[5:])
            # The children whose (solar) birthday is this month: the party is for them.
            named = [
                i
                for i in targets
                if residents[i].birth_month == month and set(residents[i].categories) & _CHILDREN
            ]
            found.append(ServedPlan(a_index, tuple(named), rng.randint(5, 15)))
            continue
        (low, high), (head_low, head_high) = _SERVED[activity.theme]
        count = min(len(targets), rng.randint(low, high))
        found.append(
            ServedPlan(a_index, tuple(sorted(rng.sample(targets, count))), rng.randint(head_low, head_high))
        )
    return found
