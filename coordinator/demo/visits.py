"""Home visits of a demo station: its visit policies and check-list, a visit history that leaves
some residents overdue, needs and follow-ups found on the way, three open case files, and the next
two weeks of rounds planned and published through the planning and sign-up services."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.auth.models import Role, User
from coordinator.auth.principal import Principal
from coordinator.cases.models import Case, CaseEntry, CaseStatus, EntryKind
from coordinator.clock import Clock
from coordinator.db import Base
from coordinator.matching.schemas import ApplyMode
from coordinator.people.models import Person
from coordinator.settings import Settings
from coordinator.stations.models import Station
from coordinator.visits.due import ledger_status
from coordinator.visits.itineraries import publish_itinerary
from coordinator.visits.models import FollowUp, VisitChecklist, VisitOutcome, VisitPolicy, VisitRecord
from coordinator.visits.planning import plan_visits
from coordinator.visits.policies import DEFAULT_CHECKLIST, DEFAULT_INTERVALS
from coordinator.visits.schemas import NEEDS, ItineraryIn, ItineraryVisitor, PlanIn
from coordinator.visits.shaping import plan_out

PLANNED_WEEKDAYS = 10  # two weeks of working days
ROUNDS_PER_DAY = 2
ACTIONS = {
    "medical": "联系村医上门复诊",
    "income": "协助申请临时救助",
    "housing": "上报危房改造",
    "education": "对接学校了解学业",
    "psychological": "安排社工心理疏导",
    "safety": "检查用电线路",
    "daily_care": "链接助餐服务",
    "legal": "联系法律援助",
}
NOTES = ["身体尚可，独自生活", "腿脚不便，很少出门", "子女在外务工，每月来电", "药品快用完", "家中漏雨"]
CASES = [
    ("独居老人用药照料", "独居，记忆力下降，常漏服降压药", "每周电话提醒服药，每月上门核对药盒"),
    ("困境儿童学业支持", "父母外出务工，祖辈照料，成绩下滑", "每两周课业辅导一次，与班主任保持联系"),
    ("残疾人就业援助", "肢体残疾，有意愿从事手工", "对接刺绣合作社，跟进技能培训"),
]


async def load_station_visits(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    *,
    station: Station,
    organizer_user_id: int,
    rng: random.Random,
    counts: Counter[str],
) -> None:
    now = clock.now()
    await _insert(
        session,
        VisitPolicy,
        [
            {"station_id": station.id, "category": c, "interval_days": d, "updated_at": now}
            for c, d in DEFAULT_INTERVALS.items()
        ],
        counts,
    )
    await _insert(
        session,
        VisitChecklist,
        [{"station_id": station.id, "items": DEFAULT_CHECKLIST, "updated_at": now}],
        counts,
    )
    workers = list(
        await session.scalars(
            select(Person.id)
            .where(Person.station_id == station.id, Person.is_social_worker.is_(True))
            .order_by(Person.id)
        )
    )
    visits = await _history(session, rng, station, now, workers, counts)
    await _cases(session, rng, station, now, workers, organizer_user_id, visits, counts)
    await _plan_two_weeks(session, clock, settings, station, organizer_user_id)


async def _history(
    session: AsyncSession,
    rng: random.Random,
    station: Station,
    now: datetime,
    workers: list[int],
    counts: Counter[str],
) -> list[dict[str, Any]]:
    """One past visit for most residents: within 1.5 policy intervals, so some are overdue now."""
    rows: list[dict[str, Any]] = []
    follow_ups: list[tuple[int, dict[str, Any]]] = []
    for resident in await ledger_status(session, [station], now=now):
        if rng.random() < 0.12:
            continue  # never visited: due since joining the ledger
        at = now - timedelta(days=rng.uniform(1, resident.interval_days * 1.5), hours=rng.randint(0, 6))
        needs = sorted(rng.sample(list(NEEDS), rng.randint(1, 2))) if rng.random() < 0.35 else []
        rows.append(
            {
                "station_id": station.id,
                "resident_id": resident.resident_id,
                "event_id": None,
                "visited_at": at,
                "outcome": VisitOutcome.visited if rng.random() < 0.9 else VisitOutcome.not_at_home,
                "conditions": {item["code"]: rng.random() < 0.85 for item in DEFAULT_CHECKLIST},
                "needs": needs,
                "notes": rng.choice(NOTES),
                "recorded_by": None,
                "created_at": at,
            }
        )
        if needs and rng.random() < 0.6:
            due_on = (at + timedelta(days=rng.randint(7, 21))).date()
            follow_ups.append(
                (
                    len(rows) - 1,
                    {
                        "action": ACTIONS[needs[0]],
                        "due_on": due_on,
                        "owner_person_id": rng.choice(workers) if workers else None,
                    },
                )
            )
    ids = await _insert(session, VisitRecord, rows, counts, returning=True)
    for row, visit_id in zip(rows, ids, strict=True):
        row["id"] = visit_id
    await _insert(
        session,
        FollowUp,
        [
            {
                **f,
                "visit_record_id": ids[i],
                "station_id": station.id,
                "resident_id": rows[i]["resident_id"],
                "done_at": None if f["due_on"] >= now.date() or rng.random() < 0.4 else now,
                "created_at": rows[i]["visited_at"],
            }
            for i, f in follow_ups
        ],
        counts,
    )
    return rows


async def _cases(
    session: AsyncSession,
    rng: random.Random,
    station: Station,
    now: datetime,
    workers: list[int],
    organizer_user_id: int,
    visits: list[dict[str, Any]],
    counts: Counter[str],
) -> None:
    with_needs = [v for v in visits if v["needs"]]
    if not workers or len(with_needs) < len(CASES):
        return
    for (title, assessment, plan), visit in zip(CASES, rng.sample(with_needs, len(CASES)), strict=True):
        opened = visit["visited_at"]
        (case_id,) = await _insert(
            session,
            Case,
            [
                {
                    "station_id": station.id,
                    "resident_id": visit["resident_id"],
                    "worker_person_id": rng.choice(workers),
                    "opened_from_visit_id": visit["id"],
                    "title": title,
                    "assessment": assessment,
                    "plan": plan,
                    "status": CaseStatus.open,
                    "close_reason": None,
                    "opened_by": organizer_user_id,
                    "opened_at": opened,
                    "closed_at": None,
                    "updated_at": opened,
                }
            ],
            counts,
            returning=True,
        )
        entries = [(EntryKind.visit, opened, visit["notes"], visit["id"])] + [
            (EntryKind.contact, opened + timedelta(days=7 * n), "电话回访，情况稳定", None)
            for n in (1, 2)
            if opened + timedelta(days=7 * n) < now
        ]
        await _insert(
            session,
            CaseEntry,
            [
                {
                    "case_id": case_id,
                    "kind": k,
                    "at": at,
                    "note": note,
                    "visit_record_id": vid,
                    "author_id": organizer_user_id,
                    "created_at": at,
                }
                for k, at, note, vid in entries
            ],
            counts,
        )


async def _plan_two_weeks(
    session: AsyncSession, clock: Clock, settings: Settings, station: Station, organizer_user_id: int
) -> None:
    """Rounds for the next ten working days, planned and published as staff would."""
    # As the station's organizer, whose login is one of its social workers: the rounds' reminders
    # then name a phone to call, as a real station's do.
    organizer = Principal(
        user_id=organizer_user_id,
        role=Role.organizer,
        station_ids=frozenset({station.id}),
        person_id=await session.scalar(select(User.person_id).where(User.id == organizer_user_id)),
    )
    today = clock.now().date()
    days: list[date] = []
    day = today
    while len(days) < PLANNED_WEEKDAYS:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    data = PlanIn(station_id=station.id, dates=days, itineraries_per_day=ROUNDS_PER_DAY)
    plan = plan_out(await plan_visits(session=session, clock=clock, principal=organizer, data=data))
    for round_ in plan.itineraries:
        visitors = [ItineraryVisitor(person_id=v.person_id, role=v.role) for v in round_.visitors]
        await publish_itinerary(
            session=session,
            clock=clock,
            settings=settings,
            principal=organizer,
            data=ItineraryIn(
                station_id=station.id,
                starts_at=round_.starts_at,
                ends_at=round_.ends_at,
                area=round_.area[:60],
                resident_ids=[s.resident_id for s in round_.stops],
                visitors=visitors,
                mode=ApplyMode.confirm,
            ),
        )


async def _insert(
    session: AsyncSession,
    model: type[Base],
    rows: list[dict[str, Any]],
    counts: Counter[str],
    *,
    returning: bool = False,
) -> list[int]:
    if not rows:
        return []
    table = Base.metadata.tables[model.__tablename__]
    counts[model.__tablename__] += len(rows)
    if not returning:
        await session.execute(insert(table), rows)
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [int(i) for i in (await session.scalars(statement, rows)).all()]
