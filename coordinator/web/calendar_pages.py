"""The organizer's month calendar and the short form that creates an activity from a theme."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.deps import SessionDep
from coordinator.events import service
from coordinator.events.calendar.festivals import FESTIVALS, occurrences
from coordinator.events.calendar.holidays import holiday_on
from coordinator.events.custom_themes import list_themes
from coordinator.events.models import Event
from coordinator.events.schemas import EventCreate, HolidayOut
from coordinator.events.themes import Theme
from coordinator.fields import Id, parse_month
from coordinator.web.context import FormDep, StaffDep, act, clock_of, render
from coordinator.web.scope import integer, local_datetime, optional_text, pick_station, stations_of, text

router = APIRouter(include_in_schema=False)
MONTH_EVENTS_LIMIT = 500
FALLBACK_COLOR = "#495057"


@dataclass
class Day:
    day: date
    in_month: bool
    is_today: bool
    holiday: HolidayOut | None
    festivals: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)
    events: list[Event] = field(default_factory=list)


def _month_of(value: str | None, today: date) -> date:
    return parse_month(value) if value else today.replace(day=1)


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _grid(month: date, today: date) -> list[list[Day]]:
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    return [[Day(d, d.month == month.month, d == today, holiday_on(d)) for d in week] for week in weeks]


def themes_by_code(themes: list[Theme]) -> dict[str, Theme]:
    return {theme.code: theme for theme in themes}


@router.get("/web/calendar", response_class=HTMLResponse)
async def month_calendar(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    station: Id | None = None,
    month: str | None = None,
) -> HTMLResponse:
    current = await pick_station(session, viewer, station)
    zone = ZoneInfo(current.timezone)
    today = clock_of(request).now().astimezone(zone).date()
    first = _month_of(month, today)
    weeks = _grid(first, today)
    start, end = weeks[0][0].day, weeks[-1][-1].day
    days = {d.day: d for week in weeks for d in week}
    for code, festival in FESTIVALS.items():
        for day in occurrences(code, start, end):
            days[day].festivals.append((festival.name_zh, festival.name_en))
    filters = service.EventFilters(
        station_id=current.id,
        starts_from=datetime.combine(start, datetime.min.time(), tzinfo=zone),
        starts_to=datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone),
    )
    events, _ = await service.list_events(
        session, viewer.principal, filters=filters, limit=MONTH_EVENTS_LIMIT, cursor=None
    )
    for event in events:
        local_day = event.starts_at.astimezone(zone).date()
        if local_day in days:
            days[local_day].events.append(event)
    themes = await list_themes(session=session, principal=viewer.principal, station_id=current.id)
    return render(
        request,
        "calendar.html",
        viewer,
        station=current,
        stations=await stations_of(session, viewer),
        zone=zone,
        month=first,
        prev_month=_shift(first, -1).strftime("%Y-%m"),
        next_month=_shift(first, 1).strftime("%Y-%m"),
        weeks=weeks,
        themes=themes_by_code(themes),
        fallback_color=FALLBACK_COLOR,
    )


@router.get("/web/events/new", response_class=HTMLResponse)
async def new_event_form(
    request: Request, viewer: StaffDep, session: SessionDep, station: Id | None = None, day: str = ""
) -> HTMLResponse:
    current = await pick_station(session, viewer, station)
    themes = await list_themes(session=session, principal=viewer.principal, station_id=current.id)
    tomorrow = clock_of(request).now().astimezone(ZoneInfo(current.timezone)).date() + timedelta(days=1)
    return render(
        request,
        "event_new.html",
        viewer,
        station=current,
        themes=themes,
        day=day or tomorrow.isoformat(),
    )


@router.post("/web/events/new")
async def create_event(request: Request, viewer: StaffDep, form: FormDep) -> RedirectResponse:
    async def work(session: AsyncSession) -> Event:
        current = await pick_station(session, viewer, integer(form, "station_id", default=0) or None)
        starts_at = local_datetime(text(form, "date"), text(form, "time"), ZoneInfo(current.timezone))
        data = EventCreate(
            station_id=current.id,
            theme=text(form, "theme"),
            title=optional_text(form, "title"),
            location=optional_text(form, "location"),
            description=optional_text(form, "description"),
            starts_at=starts_at,
        )
        return await service.create_event(
            session, clock_of(request), data=data, created_by=viewer.principal.user_id
        )

    return await act(
        request,
        work,
        back=f"/web/events/new?station={text(form, 'station_id')}",
        done=lambda event: f"/web/events/{event.id}",
        flash="event.created",
    )
