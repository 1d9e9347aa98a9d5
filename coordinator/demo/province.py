"""The demo's province around the Kaili stations: 贵州省 → 黔东南州 → 凯里市 → the four stations'
townships, with a login of the county's civil-affairs bureau and one of the provincial department.
Keyed by region code: a region that exists is left alone."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User
from coordinator.regions.closure import link_to_parent
from coordinator.regions.models import Region, RegionLevel
from coordinator.stations.models import Station

# (code, name, level, parent code)
REGIONS = (
    ("gz", "贵州省", RegionLevel.province, None),
    ("gz-qdn", "黔东南苗族侗族自治州", RegionLevel.city, "gz"),
    ("gz-qdn-kaili", "凯里市", RegionLevel.county, "gz-qdn"),
    ("gz-qdn-kaili-dsz", "大十字街道", RegionLevel.township, "gz-qdn-kaili"),
    ("gz-qdn-kaili-xm", "西门街道", RegionLevel.township, "gz-qdn-kaili"),
    ("gz-qdn-kaili-kh", "开怀街道", RegionLevel.township, "gz-qdn-kaili"),
    ("gz-qdn-kaili-sks", "三棵树镇", RegionLevel.township, "gz-qdn-kaili"),
)
# Demo station code → its township's code.
TOWNSHIP_OF = {
    "kl-yingpanpo": "gz-qdn-kaili-dsz",
    "kl-shaoshan": "gz-qdn-kaili-xm",
    "kl-kaihuai": "gz-qdn-kaili-kh",
    "kl-nanhua": "gz-qdn-kaili-sks",
}
# Region staff logins: username → (region code, role).
REGION_LOGINS = {
    "kaili-mzj": ("gz-qdn-kaili", Role.organizer),  # 凯里市民政局
    "guizhou-mzt": ("gz", Role.organizer),  # 贵州省民政厅
}


async def load_province(
    session: AsyncSession, now: datetime, password_hash: str, counts: Counter[str]
) -> dict[str, str]:
    """Add the regions that are missing and place the demo stations not yet in a region under their
    townships; answers the region logins created now (username → region name)."""
    ids = {code: region_id for code, region_id in await session.execute(select(Region.code, Region.id))}
    for code, name, level, parent in REGIONS:
        if code in ids:
            continue
        parent_id = ids[parent] if parent is not None else None
        region_id = await session.scalar(
            insert(Region).values(code=code, name=name, level=level, parent_id=parent_id, created_at=now)
            .returning(Region.id)
        )  # fmt: skip
        assert region_id is not None
        ids[code] = region_id
        await link_to_parent(session, region_id, parent_id)
        counts["regions"] += 1
    for station_code, township in TOWNSHIP_OF.items():
        placed = await session.execute(
            update(Station)
            .where(Station.code == station_code, Station.region_id.is_(None))
            .values(region_id=ids[township])
        )
        if placed.rowcount:  # type: ignore[attr-defined]
            counts["stations placed"] += placed.rowcount  # type: ignore[attr-defined]
    created: dict[str, str] = {}
    names = {code: name for code, name, _, _ in REGIONS}
    for username, (code, role) in REGION_LOGINS.items():
        if await session.scalar(select(User.id).where(User.username == username)) is None:
            created[username] = names[code]
            session.add(User(username=username, password_hash=password_hash, role=role, region_id=ids[code],
                             is_active=True, created_at=now))  # fmt: skip
    await session.flush()
    return created
