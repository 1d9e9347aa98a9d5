"""The daily cap: how many non-urgent messages a person is handed per local day
(``notify_daily_cap``); the dispatcher's claim defers the rest to the person's next day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.notify import policy
from coordinator.notify.metrics import NOTIFICATION_OUTCOMES
from coordinator.notify.models import URGENT_REASONS, Notification, NotificationStatus
from coordinator.notify.planning import station_zone
from coordinator.people.models import Person

Status = NotificationStatus
# Handed to a provider today (counts against the daily cap).
_HANDED_OVER = (Status.sending, Status.sent, Status.delivered, Status.unknown)


class DailyCap:
    """Non-urgent messages handed over per person per local day, counted in this claim too.

    The counts are read in the claim transaction (one query per station of the batch); two
    workers claiming for the same person at the same instant may each pass it, so the cap can
    be exceeded by at most one per worker."""

    def __init__(self, session: AsyncSession, cap: int, now: datetime) -> None:
        self._session, self._cap, self._now = session, cap, now
        self._counts: dict[int, int] = {}

    async def count_handed_over(self, rows: list[Notification]) -> None:
        by_station: dict[int, set[int]] = {}
        for row in rows:
            if row.reason not in URGENT_REASONS:
                by_station.setdefault(row.station_id, set()).add(row.person_id)
        for station_id, person_ids in by_station.items():
            zone = await station_zone(self._session, station_id)
            start, end = policy.local_day_bounds(self._now, zone)
            counted = await self._session.execute(
                select(Notification.person_id, func.count())
                .where(
                    Notification.person_id.in_(sorted(person_ids)),
                    Notification.status.in_(_HANDED_OVER),
                    Notification.reason.not_in(URGENT_REASONS),
                    Notification.sent_at >= start,
                    Notification.sent_at < end,
                )
                .group_by(Notification.person_id)
            )
            self._counts.update({person_id: 0 for person_id in person_ids})
            self._counts.update({person_id: int(n) for person_id, n in counted})

    async def reached(self, row: Notification) -> bool:
        count = self._counts.get(row.person_id, 0)
        if count >= self._cap:
            return True
        self._counts[row.person_id] = count + 1
        return False


async def defer_past_cap(session: AsyncSession, row: Notification, now: datetime) -> None:
    """Move the row to the person's next day (after quiet hours), or skip it if that is too late."""
    zone = await station_zone(session, row.station_id)
    person = await session.get(Person, row.person_id)
    when = policy.local_day_bounds(now, zone)[1]
    # Tomorrow's first waking moment: pulling it before quiet hours would land it today again.
    window = (
        policy.quiet_window(when, zone, person.quiet_hours_start, person.quiet_hours_end) if person else None
    )
    when = window[1] if window else when
    row.updated_at, row.last_error = now, "daily_cap"
    if row.deadline is not None and when >= row.deadline:
        row.status = Status.skipped
        NOTIFICATION_OUTCOMES.labels(row.channel, "skipped").inc()
    else:
        row.next_attempt_at = when
