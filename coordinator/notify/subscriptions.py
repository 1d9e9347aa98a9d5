"""Subscribe-message acceptances of WeChat users, per template: stored when the mini program
reports them, spent one per message sent (WeChat allows one message per acceptance)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import Clock
from coordinator.db import is_postgres, transaction
from coordinator.notify.models import WechatSubscription

# What ``requestSubscribeMessage`` answers per template: "accept" adds one; "reject" (this time)
# adds none; "ban" (turned off for good) and "filter" (template hidden) leave none.
ACCEPT = "accept"
NONE_LEFT = frozenset({"ban", "filter"})
# Acceptances kept per template at most: a page asking on every visit should not pile up more.
MAX_REMAINING = 50


async def record_results(
    session: AsyncSession, *, openid: str, results: Mapping[str, str], now: datetime
) -> dict[str, int]:
    """Apply one ``requestSubscribeMessage`` answer; the acceptances left per template."""
    left: dict[str, int] = {}
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    for template_id, answer in results.items():
        # The row must exist before it can be locked; two first reports at once insert it once.
        await session.execute(
            insert(WechatSubscription)
            .values(openid=openid, template_id=template_id, remaining=0, updated_at=now)
            .on_conflict_do_nothing(index_elements=["openid", "template_id"])
        )
        row = await session.scalar(
            select(WechatSubscription)
            .where(WechatSubscription.openid == openid, WechatSubscription.template_id == template_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        if answer == ACCEPT:
            row.remaining = min(row.remaining + 1, MAX_REMAINING)
        elif answer in NONE_LEFT:
            row.remaining = 0
        row.updated_at = now
        left[template_id] = row.remaining
    await session.flush()
    return left


async def remaining(session: AsyncSession, openid: str) -> dict[str, int]:
    rows = await session.scalars(select(WechatSubscription).where(WechatSubscription.openid == openid))
    return {row.template_id: row.remaining for row in rows}


async def forget(session: AsyncSession, openid: str) -> None:
    """An unbound openid keeps nothing."""
    await session.execute(delete(WechatSubscription).where(WechatSubscription.openid == openid))


class SubscriptionLedger:
    """The channel's side: spend an acceptance before a send, give it back when nothing was sent."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def spend(self, openid: str, template_id: str) -> bool:
        """Take one acceptance; False when none is left. The conditional update is atomic, so two
        workers cannot spend the last one twice."""
        return await self._change(openid, template_id, -1, WechatSubscription.remaining > 0)

    async def give_back(self, openid: str, template_id: str) -> None:
        await self._change(openid, template_id, +1, WechatSubscription.remaining < MAX_REMAINING)

    async def none_left(self, openid: str, template_id: str) -> None:
        """WeChat says the user has none (43101): ours were miscounted or withdrawn."""
        async with transaction(self._sessionmaker) as session:
            await session.execute(
                update(WechatSubscription)
                .where(WechatSubscription.openid == openid, WechatSubscription.template_id == template_id)
                .values(remaining=0, updated_at=self._clock.now())
            )

    async def _change(self, openid: str, template_id: str, by: int, condition: ColumnElement[bool]) -> bool:
        async with transaction(self._sessionmaker) as session:
            result = await session.execute(
                update(WechatSubscription)
                .where(
                    WechatSubscription.openid == openid,
                    WechatSubscription.template_id == template_id,
                    condition,
                )
                .values(remaining=WechatSubscription.remaining + by, updated_at=self._clock.now())
            )
        return bool(getattr(result, "rowcount", 0))
