"""iCalendar (RFC 5545) rendering of events, for single downloads and subscription feeds.

Times carry their station's TZID with a matching VTIMEZONE, so phone calendars show Kaili time
wherever the phone is. UID and SEQUENCE let a calendar update an event it already has instead
of adding a copy; a cancelled event stays in the feed with STATUS:CANCELLED so it disappears. A
place the person only waits for or is invited to is STATUS:TENTATIVE (RFC 5545 §3.8.1.11)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar

from coordinator.events.models import Event, EventStatus, SignupStatus
from coordinator.text import printable

PRODID = "-//coordinator//Community station activities//ZH"
MEDIA_TYPE = "text/calendar; charset=utf-8"

_STATUS = {
    EventStatus.draft: "TENTATIVE",
    EventStatus.published: "CONFIRMED",
    EventStatus.completed: "CONFIRMED",
    EventStatus.cancelled: "CANCELLED",
}
# Places that are not (yet) the person's: a calendar shows these events as tentative.
TENTATIVE_SIGNUPS = frozenset({SignupStatus.waitlisted, SignupStatus.invited})


def event_uid(event_id: int) -> str:
    return f"event-{event_id}@coordinator"


def render_calendar(
    events: Iterable[Event],
    zones: Mapping[int, ZoneInfo],
    *,
    now: datetime,
    name: str,
    tentative: Collection[int] = (),
) -> bytes:
    """One VCALENDAR holding ``events``; ``zones`` maps station ids to their time zone, and
    ``tentative`` names the events the calendar's owner only waits for or is invited to."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", printable(name))
    for event in events:
        calendar.add_component(
            _vevent(event, zones[event.station_id], now=now, tentative=event.id in tentative)
        )
    calendar.add_missing_timezones()
    body: bytes = calendar.to_ical()
    return body


def _vevent(event: Event, zone: ZoneInfo, *, now: datetime, tentative: bool) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", event_uid(event.id))
    vevent.add("dtstamp", now)
    vevent.add("dtstart", event.starts_at.astimezone(zone))
    vevent.add("dtend", event.ends_at.astimezone(zone))
    vevent.add("summary", printable(event.title))
    if event.location:
        vevent.add("location", printable(event.location))
    if event.description or event.cancel_reason:
        text = event.description or ""
        if event.status == EventStatus.cancelled and event.cancel_reason:
            text = f"已取消：{event.cancel_reason}\n{text}".strip()
        vevent.add("description", printable(text, multiline=True))
    vevent.add("sequence", event.sequence)
    status = _STATUS[EventStatus(event.status)]
    vevent.add("status", "TENTATIVE" if tentative and status == "CONFIRMED" else status)
    vevent.add("created", event.created_at)
    vevent.add("last-modified", event.updated_at)
    vevent.add("categories", [event.theme])
    return vevent
