"""A station placed under another township: its events leave the cells of the regions above the
old township only and enter those above the new one only (the province, and often the county,
stay as they are). What the station adds to a region's cell is its own cell: every event of a
station is counted under the station's township, so the station's counters and members (with
their occurrences) move as a block, in a few statements per region however long its history.

Locks (docs/concurrency.md, invariant 5): the station's row, then its ``stats_events`` rows (a
``refresh_event`` takes the station row shared before its event row), then on PostgreSQL the
member and cell tables, so no refresh elsewhere writes between this move's many member rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Integer, Table, and_, delete, exists, func, literal, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.attendance.recording import insert_for
from coordinator.db import is_postgres
from coordinator.regions.closure import ancestors
from coordinator.stats.models import EventRollup, StatsCell, StatsCellMember, region_scope
from coordinator.stats.rollups import COUNTERS, DISTINCT_COUNTER, Cell, add_to_cell

Deltas = dict[Cell, Counter[str]]
KEY = ("period", "theme", "kind", "member_id")  # a member's key within a scope


async def move_station(session: AsyncSession, station_id: int, before: int | None, after: int | None) -> None:
    """The station's events, counted under township ``before``, count under ``after`` from now on
    (None: under no region). The caller has updated, and so locked, the station row."""
    await session.execute(
        select(EventRollup.event_id)
        .where(EventRollup.station_id == station_id)
        .order_by(EventRollup.event_id)
        .with_for_update()
    )
    if is_postgres(session):
        await session.execute(text("LOCK TABLE stats_cell_members, stats_cells IN SHARE ROW EXCLUSIVE MODE"))
    leaving = set(await ancestors(session, before)) if before is not None else set()
    entering = set(await ancestors(session, after)) if after is not None else set()
    deltas: Deltas = defaultdict(Counter)
    for region_id, sign in [*((r, -1) for r in sorted(leaving - entering)),
                            *((r, 1) for r in sorted(entering - leaving))]:  # fmt: skip
        await _shift(session, station_id, region_scope(region_id), sign, deltas)
    await session.execute(
        update(EventRollup).where(EventRollup.station_id == station_id).values(region_id=after)
    )
    for cell, change in sorted(deltas.items()):
        if any(change.values()):
            await add_to_cell(session, cell, {name: value for name, value in change.items() if value})


async def _shift(session: AsyncSession, station_id: int, scope: int, sign: int, deltas: Deltas) -> None:
    """Add (+1) or take out (-1) the station's cells in the region cells of ``scope``."""
    counts = [StatsCell.events, *(getattr(StatsCell, name) for name in COUNTERS)]
    for period, theme, *values in await session.execute(
        select(StatsCell.period, StatsCell.theme, *counts).where(StatsCell.scope == station_id)
    ):
        change = deltas[(scope, period, theme)]
        for name, value in zip(("events", *COUNTERS), values, strict=True):
            change[name] += sign * value
    member = StatsCellMember
    table = cast(Table, member.__table__)
    own = (
        select(*(table.c[name] for name in KEY), member.occurrences)
        .where(member.scope == station_id)
        .subquery()
    )
    in_region = and_(member.scope == scope, *(table.c[name] == own.c[name] for name in KEY))
    cell_kind = (own.c.period, own.c.theme, own.c.kind)
    if sign > 0:  # members new to a region cell: its distinct count grows
        new = select(*cell_kind, func.count()).where(~exists().where(in_region)).group_by(*cell_kind)
        _count_distinct(deltas, scope, await session.execute(new), 1)
    else:  # members whose every occurrence is the station's leave it: its distinct count shrinks
        last = and_(in_region, member.occurrences == own.c.occurrences)
        leaving = select(*cell_kind, func.count()).select_from(own).join(member, last).group_by(*cell_kind)
        _count_distinct(deltas, scope, await session.execute(leaving), -1)
    # In key order, as refresh_event writes its member rows.
    rows = select(literal(scope, Integer()), *(own.c[name] for name in KEY), own.c.occurrences * sign)
    upsert = insert_for(session, member).from_select(["scope", *KEY, "occurrences"], rows.order_by(*own.c))
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=["scope", *KEY],
            set_={"occurrences": table.c.occurrences + upsert.excluded.occurrences},
        )
    )
    if sign < 0:
        key = tuple_(*(table.c[name] for name in KEY))
        own_keys = select(*(own.c[name] for name in KEY))
        await session.execute(
            delete(table).where(table.c.scope == scope, table.c.occurrences <= 0, key.in_(own_keys))
        )


def _count_distinct(deltas: Deltas, scope: int, rows: Iterable[Any], sign: int) -> None:
    for period, theme, kind, count in rows:
        deltas[(scope, period, theme)][DISTINCT_COUNTER[kind]] += sign * count
