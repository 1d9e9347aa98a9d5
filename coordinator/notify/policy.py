"""Who may be reached how, and when: consent, channel order, quiet hours, daily cap, backoff.

Pure functions over plain values (no I/O), shared by planning and the dispatcher so a retry or a
fallback obeys the same rules as the first plan.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from coordinator.notify.confirmations.links import sendable_template
from coordinator.people.models import Person
from coordinator.settings import Settings

# A reminder pulled before quiet hours goes this long before they begin, not on the last minute.
QUIET_MARGIN = timedelta(minutes=15)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# Jitter only adds, so a provider's throttle window is always waited out in full.
JITTER_FRACTION = 0.25


def configured_channels(settings: Settings, template: str | None = None) -> frozenset[str]:
    """The person-facing channels this deployment can deliver (see ``channels.build_channels``),
    for messages of ``template`` when given: WeChat only where a template of its kind is set."""
    names = {"sms"}
    if settings.wechat_app_id and (
        template is None or sendable_template(settings, "wechat", template) in settings.wechat_templates
    ):
        names.add("wechat")
    if settings.smtp_host:
        names.add("email")
    return frozenset(names)


def address_for(person: Person, channel: str) -> str | None:
    if channel == "sms":
        return person.phone or None
    if channel == "wechat":
        return person.wechat_openid or None
    if channel == "email":
        return person.email or None
    return None


def consents(person: Person, channel: str) -> bool:
    return {
        "sms": person.consent_sms,
        "wechat": person.consent_wechat,
        "email": person.consent_email,
    }.get(channel, False)


def channel_chain(person: Person, configured: Iterable[str]) -> list[str]:
    """The person's preferred order, keeping only channels they consented to and can be reached on."""
    available = set(configured)
    return [
        channel
        for channel in person.channel_order
        if channel in available and consents(person, channel) and address_for(person, channel)
    ]


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_window(instant: datetime, zone: ZoneInfo, start: str, end: str) -> tuple[datetime, datetime] | None:
    """The quiet-hours window (local start, local end) containing ``instant``, or None."""
    begins, ends = _clock_time(start), _clock_time(end)
    if begins == ends:
        return None
    local = instant.astimezone(zone)
    day = local.date()
    if begins < ends:  # a window inside one day, e.g. 12:00–14:00
        window = (datetime.combine(day, begins, zone), datetime.combine(day, ends, zone))
        return window if window[0] <= local < window[1] else None
    # A window that wraps past midnight, e.g. 22:00–08:00.
    if local.time() >= begins:
        return datetime.combine(day, begins, zone), datetime.combine(day + timedelta(days=1), ends, zone)
    if local.time() < ends:
        return datetime.combine(day - timedelta(days=1), begins, zone), datetime.combine(day, ends, zone)
    return None


def outside_quiet_hours(
    due: datetime,
    *,
    now: datetime,
    deadline: datetime | None,
    zone: ZoneInfo,
    start: str,
    end: str,
) -> datetime | None:
    """When a message due at ``due`` may go: ``due`` itself outside quiet hours; inside them,
    shortly before they begin if that moment is still ahead, else when they end if that is
    before the deadline. None when quiet hours leave no useful moment."""
    due = max(due, now)
    window = quiet_window(due, zone, start, end)
    if window is None:
        return due
    before = window[0] - QUIET_MARGIN
    if before >= now:
        return before
    after = window[1]
    if deadline is None or after < deadline:
        return after
    return None


def local_day_bounds(instant: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    local_day = instant.astimezone(zone).date()
    start = datetime.combine(local_day, time(0), zone)
    return start, datetime.combine(local_day + timedelta(days=1), time(0), zone)


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random) -> timedelta:
    """Exponential backoff (30 s, 1 min, 2 min … up to 1 h), never shorter than the provider's
    window, plus up to a quarter more of jitter so throttled workers do not retry in step."""
    backoff = min(BACKOFF_BASE * (1 << max(attempts - 1, 0)), BACKOFF_CAP)
    delay = max(backoff, timedelta(seconds=retry_after or 0))
    return delay * (1 + JITTER_FRACTION * rng.random())
