"""The incremental step itself: a repeated or late refresh of an activity changes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.stats.models import StatsCell, StatsCellMember
from coordinator.stats.rollups import refresh_event
from tests.stats.scenario import Scenario


async def _snapshot(session: AsyncSession) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    cells = [
        tuple(r)
        for r in await session.execute(select(StatsCell.__table__).order_by(*StatsCell.__table__.primary_key))
    ]
    members = [tuple(r) for r in await session.execute(select(StatsCellMember.__table__).order_by(
        *StatsCellMember.__table__.primary_key))]  # fmt: skip
    return cells, members


async def test_refreshing_again_in_any_order_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], scenario: Scenario
) -> None:
    async with sessionmaker() as session:
        before = await _snapshot(session)
    assert before[0], "the scenario's deliveries filled the cells"
    for order in (scenario.history.events, list(reversed(scenario.history.events))):
        async with sessionmaker() as session, session.begin():
            changed = [await refresh_event(session, event.id) for event in order]
        assert changed == [False] * len(order)
    async with sessionmaker() as session:
        assert await _snapshot(session) == before
        # An id that never was an event (or is gone and never counted) is a no-op too.
        assert await refresh_event(session, 999_999) is False
