"""Visit policies (how often each ledger category is visited) and the station's check-list of
living conditions. A station that never set them uses the defaults below."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role
from coordinator.auth.principal import Principal
from coordinator.clock import Clock
from coordinator.errors import Invalid
from coordinator.people.vocabulary import RESIDENT_CATEGORIES
from coordinator.stations.models import Station
from coordinator.stations.service import get_station
from coordinator.visits.models import VisitChecklist, VisitPolicy

# Days between visits: 特困 monthly, 空巢老人 and 困境儿童 every two weeks, 低保 quarterly …
DEFAULT_INTERVALS: dict[str, int] = {
    "extreme_poverty": 30,
    "empty_nest_elderly": 14,
    "child_in_difficulty": 14,
    "left_behind_child": 30,
    "left_behind_elderly": 30,
    "disabled": 30,
    "low_income": 90,
}
DEFAULT_CHECKLIST: list[dict[str, str]] = [
    {"code": "housing_safe", "label": "住房安全（无漏雨、危房）"},
    {"code": "water_power", "label": "用水用电正常"},
    {"code": "food", "label": "粮油充足"},
    {"code": "warmth", "label": "衣被保暖"},
    {"code": "hygiene", "label": "居住环境卫生"},
    {"code": "medicine", "label": "按时服药、就医方便"},
    {"code": "caregiver", "label": "有人照料或联系"},
]
CATEGORY_CODES = frozenset(str(term.code) for term in RESIDENT_CATEGORIES)


async def _lock_station(session: AsyncSession, station_id: int) -> None:
    """Writes of one station's policies or check-list take turns on its row: two at once would
    otherwise both insert the rows the other cannot see yet. NO KEY: rows referring to the station
    are not held up."""
    await session.execute(select(Station.id).where(Station.id == station_id).with_for_update(key_share=True))


async def policies(session: AsyncSession, station_ids: list[int]) -> dict[int, dict[str, int]]:
    """station id → category → interval in days; the defaults for a station without its own."""
    rows = await session.execute(
        select(VisitPolicy.station_id, VisitPolicy.category, VisitPolicy.interval_days).where(
            VisitPolicy.station_id.in_(station_ids)
        )
    )
    stored: dict[int, dict[str, int]] = {}
    for station_id, category, days in rows:
        stored.setdefault(station_id, {})[category] = days
    return {sid: stored.get(sid, dict(DEFAULT_INTERVALS)) for sid in station_ids}


async def get_policies(*, session: AsyncSession, principal: Principal, station_id: int) -> dict[str, int]:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=station_id)
    return (await policies(session, [station_id]))[station_id]


async def put_policies(
    *, session: AsyncSession, clock: Clock, principal: Principal, station_id: int, intervals: dict[str, int]
) -> dict[str, int]:
    """Replace the station's policies; a category left out is not visited by policy."""
    principal.require(Role.admin, Role.station_head)
    await get_station(session=session, principal=principal, station_id=station_id)
    if unknown := sorted(set(intervals) - CATEGORY_CODES):
        raise Invalid(
            f"未知的台账类别：{'、'.join(unknown)}",
            f"Unknown ledger categories: {', '.join(unknown)}",
            code="unknown_category",
            field="policies",
        )
    await _lock_station(session, station_id)
    await session.execute(delete(VisitPolicy).where(VisitPolicy.station_id == station_id))
    now = clock.now()
    session.add_all(
        VisitPolicy(station_id=station_id, category=c, interval_days=d, updated_at=now)
        for c, d in sorted(intervals.items())
    )
    await session.flush()
    return dict(sorted(intervals.items()))


async def checklist(session: AsyncSession, station_id: int) -> list[dict[str, str]]:
    row = await session.get(VisitChecklist, station_id)
    return list(row.items) if row is not None else [dict(item) for item in DEFAULT_CHECKLIST]


async def get_checklist(
    *, session: AsyncSession, principal: Principal, station_id: int
) -> list[dict[str, str]]:
    principal.require_staff()
    await get_station(session=session, principal=principal, station_id=station_id)
    return await checklist(session, station_id)


async def put_checklist(
    *,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    station_id: int,
    items: list[dict[str, str]],
) -> list[dict[str, str]]:
    principal.require(Role.admin, Role.station_head)
    await get_station(session=session, principal=principal, station_id=station_id)
    codes = [item["code"] for item in items]
    if len(set(codes)) != len(codes):
        raise Invalid(
            "检查项代码重复", "Two check-list items share a code", code="duplicate_item", field="items"
        )
    await _lock_station(session, station_id)
    row = await session.get(VisitChecklist, station_id)
    if row is None:
        row = VisitChecklist(station_id=station_id, items=items, updated_at=clock.now())
        session.add(row)
    else:
        row.items, row.updated_at = items, clock.now()
    await session.flush()
    return items
