"""Participation statistics: answered from the roll-ups when they can, by the plain recount otherwise.

The roll-ups keep cells by (station or county, month or year, theme or all themes), so they answer
group-bys within {station, month, theme} over a whole month or a whole calendar year, for one
station or for the county, once they have taken in every change at those stations
(``stats.freshness``). Anything else (organization, week, role, Party branch; a period like
"the last 45 days"; a station head's several stations at once; a change still on its way) is
recounted from the source rows, and the answer says which path it took (``source``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid, not_found
from coordinator.regions.models import RegionLevel
from coordinator.stations.models import Station
from coordinator.stats.figures import DIMENSIONS, Dimension, Figures, Key, Participation
from coordinator.stats.freshness import rollups_behind
from coordinator.stats.models import ALL_STATIONS, ALL_THEMES, StatsCell, region_scope
from coordinator.stats.periods import local_date, months_between, whole_period
from coordinator.stats.queries import recount
from coordinator.stats.regions import region_stations, rows_by_region

ROLLUP_DIMENSIONS = frozenset({"station", "region", "month", "theme"})
FIGURES = [f.name for f in fields(Figures)]
_CELL = StatsCell.__table__.c
# A cell's key, then its counters in the order of Figures' fields.
CELL_COLUMNS = [_CELL[name] for name in ("scope", "period", "theme", *FIGURES)]
# A row's key for each dimension, computed by the database (a region's scope is minus its id).
KEY_COLUMNS: dict[str, ColumnElement[Any]] = {
    "station": _CELL.scope.label("key_station"),
    "region": (-_CELL.scope).label("key_region"),
    "month": _CELL.period.label("key_month"),
    "theme": _CELL.theme.label("key_theme"),
}
# Where each part sits in a row of ``from_rollups``: is_row, then CELL_COLUMNS, then the keys.
_CELL_KEY_AT = slice(1, 4)
_FIGURES_AT = slice(4, 4 + len(FIGURES))
_ROW_KEY_AT = slice(4 + len(FIGURES), None)
DEFAULT_ZONE = "Asia/Shanghai"
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Selection:
    """Which stations (None: all of them) and which local dates a request covers; a region's
    request has its stations and its id. Grouped by region, ``regions`` gives each station's row."""

    station_ids: frozenset[int] | None
    first: date
    last: date
    group_by: tuple[Dimension, ...]
    region_id: int | None = None
    regions: Mapping[int, int] | None = None


async def select_scope(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    *,
    station_id: int | None,
    first: date | None,
    last: date | None,
    group_by: Sequence[str],
    region_id: int | None = None,
    level: RegionLevel | None = None,
) -> Selection:
    """Check the caller and the parameters: staff only (403), their own stations and regions only
    (404); the period defaults to the current calendar year. Region staff asking for no station
    nor region get their region."""
    principal.require_staff()
    if station_id is not None and region_id is not None:
        raise Invalid("服务站和区域只能选一个", "Ask for a station or a region, not both",
                      code="station_and_region", field="region_id")  # fmt: skip
    if station_id is not None:
        station = await session.get(Station, station_id)
        if station is None or not principal.can_access(station.id):
            raise not_found("服务站", "station", station_id)
    dims = parse_group_by(group_by)
    today = local_date(clock.now(), DEFAULT_ZONE)
    first = first or date(today.year, 1, 1)
    last = last or date(first.year, 12, 31)
    if last < first:
        raise Invalid("结束日期早于开始日期", "'to' is before 'from'", code="invalid_period", field="to")
    if (last - first).days > MAX_DAYS:
        raise Invalid("统计区间最长三年", "The period may span at most three years", code="period_too_long",
                      field="to")  # fmt: skip
    if station_id is None and region_id is None and not principal.is_admin:
        region_id = principal.region_id
    if station_id is not None:
        stations: frozenset[int] | None = frozenset({station_id})
    elif region_id is not None:
        stations = await region_stations(session, principal, region_id)
    else:
        stations = None if principal.is_admin else principal.station_ids
    regions = None
    if "region" in dims:
        regions = await rows_by_region(session, within=region_id, stations=stations, level=level)
    return Selection(stations, first, last, dims, region_id if station_id is None else None, regions)


def parse_group_by(values: Sequence[str]) -> tuple[Dimension, ...]:
    """``group_by=month&group_by=theme`` or ``group_by=month,theme``; order kept, repeats dropped."""
    dims: list[Dimension] = []
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if name not in DIMENSIONS:
                raise Invalid(
                    f"不支持的分组：{name}",
                    f"Unknown group_by {name!r}; use {', '.join(DIMENSIONS)}",
                    code="invalid_group_by",
                    field="group_by",
                )
            if name not in dims:
                dims.append(name)  # narrowed by the membership test above
    return tuple(dims)


async def participation(session: AsyncSession, selection: Selection) -> Participation:
    answer = await from_rollups(session, selection)
    if answer is not None:
        return answer
    return await recount(
        session,
        station_ids=selection.station_ids,
        first=selection.first,
        last=selection.last,
        group_by=selection.group_by,
        regions=selection.regions,
    )


async def from_rollups(session: AsyncSession, selection: Selection) -> Participation | None:
    """The answer from the cells, or None when the cells cannot give it exactly."""
    group_by = selection.group_by
    period = whole_period(selection.first, selection.last)
    if period is None or not set(group_by) <= ROLLUP_DIMENSIONS:
        return None
    stations = selection.station_ids
    if {"station", "region"} <= set(group_by):
        return None  # a station's row already says its region
    if "region" in group_by and stations is not None and selection.region_id is None:
        return None  # a region's cells hold more than these stations
    if stations is not None and len(stations) != 1 and selection.region_id is None:
        return None  # distinct counts of a few stations together are in no cell
    if await rollups_behind(session, stations):
        return None  # read-your-writes: a roster saved a moment ago counts before the bus delivers it
    if selection.region_id is not None:
        total_scope = region_scope(selection.region_id)
    else:
        total_scope = next(iter(stations)) if stations is not None else ALL_STATIONS
    row_scopes = _row_scopes(selection, total_scope)
    scope_filter = (
        StatsCell.scope > ALL_STATIONS if row_scopes is None else StatsCell.scope.in_(sorted(row_scopes))
    )
    periods = months_between(selection.first, selection.last) if "month" in group_by else [period]
    theme_filter = StatsCell.theme != ALL_THEMES if "theme" in group_by else StatsCell.theme == ALL_THEMES
    total = (total_scope, period, ALL_THEMES)
    is_row = and_(StatsCell.events > 0, scope_filter, StatsCell.period.in_(periods), theme_filter)
    is_totals = and_(
        StatsCell.scope == total_scope, StatsCell.period == period, StatsCell.theme == ALL_THEMES
    )
    # One round trip for rows and totals, plain tuples: this is the dashboard's hot path (thousands
    # of rows for the townships of a province by month).
    keys = [KEY_COLUMNS[d] for d in group_by]
    cells = await session.execute(select(is_row, *CELL_COLUMNS, *keys).where(or_(is_row, is_totals)))
    rows: list[tuple[Key, Figures]] = []
    totals = Figures()
    for cell in cells:
        figures = Figures(*cell[_FIGURES_AT])
        if cell[_CELL_KEY_AT] == total:
            totals = figures
        if cell[0]:  # is_row
            rows.append((tuple(cell[_ROW_KEY_AT]), figures))
    rows.sort(key=lambda row: row[0])  # roll-up keys are never None: no sort_key needed
    return Participation(group_by=group_by, rows=rows, totals=totals, source="rollup")


def _row_scopes(selection: Selection, total_scope: int) -> set[int] | None:
    """The scopes of the cells that are rows: each station's (None: every station's), each
    region's, or the one total."""
    if "station" in selection.group_by and total_scope <= ALL_STATIONS:
        return None if selection.station_ids is None else set(selection.station_ids)
    if "region" in selection.group_by:
        return {region_scope(r) for r in (selection.regions or {}).values()}
    return {total_scope}
