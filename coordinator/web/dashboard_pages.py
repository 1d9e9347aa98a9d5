"""The station head's dashboard: the period's numbers, by month and by theme, from the stats service."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from coordinator.deps import ReadsDep, SessionDep
from coordinator.events.custom_themes import list_themes
from coordinator.fields import Id, parse_day
from coordinator.stats.coverage import coverage
from coordinator.stats.figures import Figures
from coordinator.stats.queries import upcoming_events
from coordinator.stats.service import participation, select_scope
from coordinator.visits.coverage import visit_coverage
from coordinator.web.context import StaffDep, clock_of, render
from coordinator.web.scope import pick_station, stations_of

router = APIRouter(include_in_schema=False)
# Ledger coverage: residents on the ledger visited or served within this many days.
COVERAGE_DAYS = 90


def _held(figures: Figures, upcoming: int) -> dict[str, Any]:
    """A row as the page shows it: the activities held so far, and apart those still ahead (the
    statistics count every activity of the period, held or not)."""
    return {**figures.as_dict(), "events": figures.events - upcoming, "upcoming": upcoming}


@router.get("/web/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    viewer: StaffDep,
    session: SessionDep,
    reads: ReadsDep,
    station: Id | None = None,
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
) -> HTMLResponse:
    current = await pick_station(session, viewer, station)
    clock = clock_of(request)

    async def figures(*group_by: str) -> Any:
        selection = await select_scope(
            session,
            viewer.principal,
            clock,
            station_id=current.id,
            first=parse_day(from_, field="from"),
            last=parse_day(to, field="to"),
            group_by=list(group_by),
        )
        return selection, await reads.run(session, lambda on: participation(on, selection))

    selection, by_month = await figures("month")
    _, by_theme = await figures("theme")
    ahead = await upcoming_events(
        session, station_ids=[current.id], first=selection.first, last=selection.last, now=clock.now()
    )
    ahead_by_month, ahead_by_theme = Counter(m for m, _ in ahead), Counter(t for _, t in ahead)
    themes = {
        theme.code: theme
        for theme in await list_themes(session=session, principal=viewer.principal, station_id=current.id)
    }
    reach = await coverage(session, viewer.principal, clock, station_id=current.id, days=COVERAGE_DAYS)
    visits = await visit_coverage(
        session, viewer.principal, clock, station_id=current.id, first=selection.first, last=selection.last
    )
    totals: Figures = by_month.totals
    chart = {
        "months": [key[0] for key, _ in by_month.rows],
        "person_times": [f.person_times for _, f in by_month.rows],
        "hours": [round(f.volunteer_minutes / 60, 1) for _, f in by_month.rows],
        "themes": [themes[key[0]].name_zh if key[0] in themes else str(key[0]) for key, _ in by_theme.rows],
        "theme_person_times": [f.person_times for _, f in by_theme.rows],
    }
    return render(
        request,
        "dashboard.html",
        viewer,
        station=current,
        stations=await stations_of(session, viewer),
        first=selection.first,
        last=selection.last,
        totals=_held(totals, len(ahead)),
        by_month=[(key[0], _held(f, ahead_by_month[key[0]])) for key, f in by_month.rows],
        by_theme=[(themes.get(key[0]), key[0], _held(f, ahead_by_theme[key[0]])) for key, f in by_theme.rows],
        reach=reach,
        visits=visits,
        coverage_days=COVERAGE_DAYS,
        chart=chart,
        source=by_month.source,
    )
