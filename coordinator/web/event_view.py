"""Everything the organizer's activity page shows, read in one place from the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance import qr, tokens
from coordinator.attendance.models import Attendance
from coordinator.attendance.served import served_by
from coordinator.clock import Clock
from coordinator.events import roles, service
from coordinator.events.models import Event, EventStatus, Signup, SignupStatus
from coordinator.events.signups import service as signups
from coordinator.events.signups.waitlist import waitlist_positions
from coordinator.events.themes import Theme, resolve_theme
from coordinator.notify.models import Notification
from coordinator.people.models import Person, Resident
from coordinator.people.residents import ResidentFilters, list_residents
from coordinator.people.service import PersonFilters, list_people
from coordinator.settings import Settings
from coordinator.web.context import Viewer

LIST_LIMIT = 500
NOTIFICATIONS_SHOWN = 100
# Residents offered under "residents served": the event's target categories, or a name search.
RESIDENTS_SHOWN = 60


@dataclass(frozen=True)
class SignupLine:
    signup: Signup
    name: str
    role_name: str
    position: int | None


@dataclass(frozen=True)
class CheckinCode:
    svg: str
    url: str
    opens_at: datetime
    closes_at: datetime


@dataclass
class EventView:
    event: Event
    zone: ZoneInfo
    theme: Theme
    lines: list[SignupLine]
    people: list[Person] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    resident_search: str = ""
    more_residents: bool = False  # the list was cut at RESIDENTS_SHOWN
    served_ids: set[int] = field(default_factory=set)
    headcount: int = 0
    attendance: dict[int, Attendance] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    code: CheckinCode | None = None

    @property
    def confirmed(self) -> list[SignupLine]:
        return [line for line in self.lines if line.signup.status == SignupStatus.confirmed]

    @property
    def waiting(self) -> list[SignupLine]:
        return sorted(
            (line for line in self.lines if line.signup.status == SignupStatus.waitlisted),
            key=lambda line: (line.role_name, line.position or 0),
        )

    @property
    def is_open(self) -> bool:
        return self.event.status in (EventStatus.draft, EventStatus.published)

    @property
    def records_attendance(self) -> bool:
        return self.event.status in (EventStatus.published, EventStatus.completed)


async def load_event_view(
    session: AsyncSession,
    viewer: Viewer,
    event_id: int,
    *,
    settings: Settings,
    clock: Clock,
    resident_search: str = "",
) -> EventView:
    principal = viewer.principal
    event = await service.get_event_for(session, principal, event_id)
    zone = ZoneInfo((await service.load_event(session, event.id))[1])
    rows, _ = await signups.list_signups(
        session, event_id=event.id, status=None, role_id=None, limit=LIST_LIMIT, cursor=None
    )
    names = await _names(session, {s.person_id for s in rows})
    positions = await waitlist_positions(
        session, [s.role_id for s in rows if s.status == SignupStatus.waitlisted]
    )
    role_names = await roles.role_names(session, event, (s.role_id for s in rows))
    view = EventView(
        event=event,
        zone=zone,
        theme=await resolve_theme(session, station_id=event.station_id, code=event.theme),
        lines=[
            SignupLine(s, names.get(s.person_id, "?"), role_names.get(s.role_id, "?"), positions.get(s.id))
            for s in rows
        ],
        names=names,
        resident_search=resident_search.strip(),
    )
    if view.is_open:
        view.people, _ = await list_people(
            session=session,
            principal=principal,
            filters=PersonFilters(station_id=event.station_id, active=True),
            limit=LIST_LIMIT,
            cursor=None,
        )
    if view.records_attendance:
        await _load_attendance(session, viewer, view)
        if event.status == EventStatus.published:
            view.code = _checkin_code(settings, clock, event)
    view.notifications = list(
        await session.scalars(
            select(Notification)
            .where(Notification.event_id == event.id)
            .order_by(Notification.id.desc())
            .limit(NOTIFICATIONS_SHOWN)
        )
    )
    missing = {n.person_id for n in view.notifications} - set(names)
    if missing:
        view.names.update(await _names(session, missing))
    return view


async def _names(session: AsyncSession, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = await session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids)))
    return {person_id: name for person_id, name in rows}


async def _load_attendance(session: AsyncSession, viewer: Viewer, view: EventView) -> None:
    event = view.event
    served = await served_by(session=session, principal=viewer.principal, event_id=event.id)
    view.served_ids, view.headcount = set(served.resident_ids), served.headcount
    await _load_residents(session, viewer, view)
    rows = await session.scalars(select(Attendance).where(Attendance.event_id == event.id))
    view.attendance = {row.person_id: row for row in rows}


async def _load_residents(session: AsyncSession, viewer: Viewer, view: EventView) -> None:
    """Those already served, then the name search's results or else the residents of the event's
    target categories: a whole ledger of checkboxes is more than a page should carry."""
    event = view.event
    if view.resident_search:
        filters = ResidentFilters(station_id=event.station_id, active=True, q=view.resident_search)
    else:
        filters = ResidentFilters(
            station_id=event.station_id, active=True, any_category=tuple(event.target_categories)
        )
    found, more = await list_residents(
        session=session, principal=viewer.principal, filters=filters, limit=RESIDENTS_SHOWN, cursor=None
    )
    view.more_residents = more is not None
    served: list[Resident] = []
    if missing := view.served_ids - {r.id for r in found}:
        served = list(
            await session.scalars(select(Resident).where(Resident.id.in_(missing)).order_by(Resident.id))
        )
    view.residents = served + found


def _checkin_code(settings: Settings, clock: Clock, event: Event) -> CheckinCode:
    token = tokens.checkin_token(settings.secret_key.get_secret_value(), event, now=clock.now())
    url = qr.scan_url(settings, "checkin", token)
    window = tokens.checkin_window(event)
    return CheckinCode(svg=qr.svg(url), url=url, opens_at=window.opens_at, closes_at=window.closes_at)
