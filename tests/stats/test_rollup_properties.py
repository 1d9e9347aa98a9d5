"""Invariant 5: whatever history of attendance, corrections, deletions, residents served,
cancellations, moves and Party-membership changes happened, once the relay has drained, the
statistics service (answering from the roll-ups) equals the plain recount for every group-by;
and an incrementally maintained roll-up equals one rebuilt from scratch."""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.app import create_app
from coordinator.attendance.models import AttendanceStatus
from coordinator.clock import FixedClock
from coordinator.regions.models import LEVELS, RegionLevel
from coordinator.regions.service import place_station, stations_below
from coordinator.settings import Settings
from coordinator.stats.models import StatsCell, StatsCellMember
from coordinator.stats.queries import recount
from coordinator.stats.rebuild import rebuild
from coordinator.stats.regions import rows_by_region
from coordinator.stats.service import Selection, participation
from tests.conftest import START, TEST_SECRET, _truncate_all
from tests.factories import create_station
from tests.regions import ADMIN, Province, add_province
from tests.stats import history as h

GROUP_BYS: list[tuple[Any, ...]] = [
    (),
    ("station",),
    ("theme",),
    ("month",),
    ("month", "theme"),
    ("station", "month", "theme"),
    ("organization",),
    ("week",),
    ("role",),
    ("party_branch",),
    ("organization", "month"),
]
REGION_GROUP_BYS: list[tuple[Any, ...]] = [
    (),
    ("month",),
    ("station", "theme"),
    ("region",),
    ("region", "month"),
]
PERIODS = [
    (date(2026, 1, 1), date(2026, 12, 31)),  # a year: roll-ups
    (date(2026, 11, 1), date(2026, 11, 30)),  # a month: roll-ups
    (date(2026, 12, 1), date(2026, 12, 31)),
    (date(2026, 10, 10), date(2026, 11, 30)),  # neither: recount
]

statuses = st.sampled_from(list(AttendanceStatus))
event_index = st.integers(0, len(h.EVENT_STARTS) - 1)
person_index = st.integers(0, 3)
operations = st.one_of(
    st.tuples(st.just("attend"), event_index, person_index, statuses, st.integers(0, 240), st.booleans()),
    st.tuples(st.just("delete"), event_index, person_index),
    st.tuples(st.just("serve"), event_index, st.integers(0, 2), st.booleans()),
    st.tuples(st.just("headcount"), event_index, st.integers(0, 30)),
    st.tuples(st.just("cancel"), event_index),
    st.tuples(st.just("move"), event_index, st.sampled_from([-40, -1, 1, 20])),
    st.tuples(st.just("party"), person_index, st.booleans()),
    st.tuples(st.just("place"), st.sampled_from(["same", "other", "none"])),
)
# Each step may let the relay run after it: handlers then see states in between, not only the end.
histories = st.lists(st.tuples(operations, st.booleans()), min_size=1, max_size=25)


def _run(coroutine: Any) -> Any:
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


async def _apply(
    session: AsyncSession, clock: FixedClock, base: h.History, province: Province, op: tuple[Any, ...]
) -> None:
    kind = op[0]
    if kind == "attend":
        _, e, p, status, minutes, approved = op
        await h.write_attendance(session, clock, base.events[e], base.people[p].id, status=status,
                                 minutes=minutes, approved=approved)  # fmt: skip
    elif kind == "delete":
        await h.delete_attendance(session, clock, base.events[op[1]], base.people[op[2]].id)
    elif kind == "serve":
        await h.serve(session, clock, base.events[op[1]], base.resident_ids[op[2]], add=op[3])
    elif kind == "headcount":
        await h.set_headcount(session, clock, base.events[op[1]], op[2])
    elif kind == "cancel":
        await h.cancel(session, clock, base.events[op[1]])
    elif kind == "move":
        await h.move(session, clock, base.events[op[1]], op[2])
    elif kind == "party":
        await h.set_party_member(session, clock, base.people[op[1]], op[2])
    elif kind == "place":  # the other station moves to the first one's township, back, or out
        township = {"same": province.township, "other": province.other_township, "none": None}[op[1]]
        region_id = township.id if township is not None else None
        await place_station(session=session, principal=ADMIN, station_id=base.other.id, region_id=region_id)


async def _cells(session: AsyncSession) -> set[tuple[Any, ...]]:
    """Every non-empty cell and member, as plain tuples (a rebuild leaves out emptied cells)."""
    cells = {
        (c.scope, c.period, c.theme, c.events, c.person_times, c.party_member_person_times,
         c.social_worker_person_times, c.volunteer_minutes, c.no_shows, c.residents_served_person_times,
         c.distinct_people, c.distinct_party_members, c.distinct_residents_served)
        for c in await session.scalars(select(StatsCell))
    }  # fmt: skip
    members = {
        (m.scope, m.period, m.theme, m.kind, m.member_id, m.occurrences)
        for m in await session.scalars(select(StatsCellMember))
    }
    return {c for c in cells if any(c[3:])} | members


async def _check_history(url: str, history: list[tuple[tuple[Any, ...], bool]]) -> None:
    clock = FixedClock(START)
    app = create_app(Settings(database_url=url, secret_key=TEST_SECRET, scheduler_enabled=False,
                              log_json=False, debug=True), clock=clock)  # fmt: skip
    maker = app.state.sessionmaker
    try:
        async with maker() as session, session.begin():
            station, other = await create_station(session, clock), await create_station(session, clock)
            base = await h.make_history(session, clock, station, other)
            province = await add_province(session, clock, station, other)
        for op, drain_after in history:
            async with maker() as session, session.begin():
                await _apply(session, clock, base, province, op)
            if drain_after:
                await app.state.relay.drain()
        await app.state.relay.drain()
        async with maker() as session:
            for stations in (None, frozenset({base.station.id})):
                for first, last in PERIODS:
                    for group_by in GROUP_BYS:
                        selection = Selection(stations, first, last, group_by)
                        answer = await participation(session, selection)
                        expected = await recount(session, station_ids=stations, first=first, last=last,
                                                 group_by=group_by)  # fmt: skip
                        assert answer.row_dicts() == expected.row_dicts(), (group_by, first, last, stations)
                        assert answer.totals == expected.totals, (group_by, first, last, stations)
                        if set(group_by) <= {"station", "month", "theme"} and (first, last) != PERIODS[-1]:
                            assert answer.source == "rollup"
            await check_regions(session, province)
        await check_rebuild_agrees(maker)
    finally:
        await app.state.engine.dispose()


async def check_rebuild_agrees(maker: async_sessionmaker[AsyncSession]) -> None:
    """The cells kept incrementally are those a rebuild from scratch computes."""
    async with maker() as session:
        incremental = await _cells(session)
    async with maker() as session, session.begin():
        await rebuild(session)
    async with maker() as session:
        assert await _cells(session) == incremental


async def check_regions(session: AsyncSession, province: Province) -> None:
    """Every region level answers from its own cells, with the recount's numbers (distinct counts
    exact at each level), and so do rows by region at each level below it."""
    first, last = PERIODS[0]
    for region in province.regions():
        stations = await stations_below(session, region.id)
        for level in LEVELS[LEVELS.index(RegionLevel(region.level)) :]:
            for group_by in REGION_GROUP_BYS:
                regions = await rows_by_region(session, within=region.id, stations=stations, level=level)
                selection = Selection(stations, first, last, group_by, region.id, regions)
                answer = await participation(session, selection)
                expected = await recount(session, station_ids=stations, first=first, last=last,
                                         group_by=group_by, regions=regions)  # fmt: skip
                assert answer.source == "rollup", (region.level, group_by)
                assert answer.row_dicts() == expected.row_dicts(), (region.level, level, group_by)
                assert answer.totals == expected.totals, (region.level, group_by)


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Any:
    """A function giving an empty migrated database for each example."""
    counter = iter(range(10**6))
    if database_url.startswith("sqlite"):
        template = tmp_path / "template.db"
        shutil.copyfile(database_url.split("///", 1)[1], template)

        def fresh() -> str:
            path = tmp_path / f"example-{next(counter)}.db"
            shutil.copyfile(template, path)
            return f"sqlite+aiosqlite:///{path}"

        return fresh

    def fresh_pg() -> str:
        _run(_truncate_all(database_url))
        return database_url

    return fresh_pg


@pytest.fixture
def examples(database_url: str) -> int:
    return 30 if database_url.startswith("sqlite") else 5


def test_rollups_equal_recount_for_any_history(fresh_database: Any, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(history=histories)
    def check(history: list[tuple[tuple[Any, ...], bool]]) -> None:
        _run(_check_history(fresh_database(), history))

    check()
