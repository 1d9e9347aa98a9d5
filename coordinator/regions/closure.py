"""The region tree's closure table: the regions above a region, and the rows a new region adds."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.regions.models import RegionAncestor


async def ancestors(session: AsyncSession, region_id: int) -> list[int]:
    """``region_id`` and the regions above it, nearest first."""
    rows = await session.scalars(
        select(RegionAncestor.ancestor_id)
        .where(RegionAncestor.region_id == region_id)
        .order_by(RegionAncestor.depth)
    )
    return list(rows)


async def link_to_parent(session: AsyncSession, region_id: int, parent_id: int | None) -> None:
    """A new region's closure rows: itself at depth 0, then each region above its parent."""
    chain = await ancestors(session, parent_id) if parent_id is not None else []
    rows = [{"region_id": region_id, "ancestor_id": a, "depth": d} for d, a in enumerate([region_id, *chain])]
    await session.execute(insert(RegionAncestor), rows)
