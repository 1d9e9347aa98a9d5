"""Reading back what the tests stored: row counts, domain events in the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.bus.models import OutboxEvent


async def count_rows(sessionmaker: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def domain_events(sessionmaker: async_sessionmaker[AsyncSession], event_type: str) -> list[OutboxEvent]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
        )
        return list(rows)
