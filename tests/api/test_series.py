from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.clock import FixedClock
from coordinator.events.models import Event, EventRole, EventSeries, EventStatus, SignupStatus
from coordinator.events.series.materialize import materialize_all, materialize_series, station_zone
from coordinator.notify.models import Notification
from coordinator.settings import Settings
from tests.api.event_making import add_signup
from tests.factories import create_event, create_station
from tests.stored import count_rows, domain_events
from tests.world import World

LAST_SATURDAY = "FREQ=MONTHLY;BYDAY=-1SA"


def _body(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "station_id": world.station.id,
        "theme": "birthday_party",
        "rrule": LAST_SATURDAY,
        "starts_on": "2026-12-01",
        "start_time": "14:30",
        **fields,
    }


async def _create(client: httpx.AsyncClient, world: World, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/series", json=_body(world, **fields), headers=world.organizer)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _occurrences(sessionmaker: async_sessionmaker[AsyncSession], series_id: int) -> list[Event]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Event).where(Event.series_id == series_id).order_by(Event.starts_at, Event.id)
        )
        return list(rows)


# --- creating ------------------------------------------------------------------------------------


async def test_rrule_series_materializes_its_dates_up_to_the_horizon(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world)
    # Today is 2026-11-29 in Kaili; the 90-day horizon ends on 2027-02-27, itself a last Saturday.
    events = await _occurrences(sessionmaker, body["id"])
    assert [e.occurrence_key for e in events] == ["2026-12-26", "2027-01-30", "2027-02-27"]
    # 14:30 in Asia/Shanghai is 06:30 UTC; the theme's 120 minutes give the end.
    assert events[0].starts_at == datetime(2026, 12, 26, 6, 30, tzinfo=UTC)
    assert events[0].ends_at == datetime(2026, 12, 26, 8, 30, tzinfo=UTC)
    assert {e.status for e in events} == {EventStatus.draft}
    assert {e.title for e in events} == {"我们共成长·集体生日会"}
    assert [o["occurrence_key"] for o in body["upcoming"]] == ["2026-12-26", "2027-01-30", "2027-02-27"]
    assert body["upcoming"][0]["starts_at"] == "2026-12-26T14:30:00+08:00"
    assert body["roles"][0]["name"] == "主持"  # the theme's roles
    assert len(await domain_events(sessionmaker, "EventCreated")) == 3


async def test_festival_series_falls_on_the_festival_dates(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    solstice = await _create(
        client, world, theme="festival_visit", rrule=None, festival="winter_solstice", start_time="09:00"
    )
    laba = await _create(
        client, world, theme="festival_visit", rrule=None, festival="laba", start_time="09:00"
    )
    assert solstice["title"] == "冬至·节日慰问"
    [winter] = await _occurrences(sessionmaker, solstice["id"])
    assert (winter.occurrence_key, winter.starts_at) == ("2026-12-22", datetime(2026, 12, 22, 1, tzinfo=UTC))
    # 腊八 of lunar year 2026 falls in January 2027, inside the horizon.
    assert [e.occurrence_key for e in await _occurrences(sessionmaker, laba["id"])] == ["2027-01-15"]


async def test_publishing_series_publishes_each_occurrence(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world, publish=True)
    assert {e.status for e in await _occurrences(sessionmaker, body["id"])} == {EventStatus.published}
    assert len(await domain_events(sessionmaker, "EventPublished")) == 3


async def test_occurrences_keep_the_local_wall_clock_across_daylight_saving(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
    world: World,
) -> None:
    async with sessionmaker() as session, session.begin():
        abroad = await create_station(session, clock, timezone="America/New_York")
    # An admin may use any station. March is beyond the horizon: nothing is created yet.
    response = await client.post(
        "/api/v1/series",
        json=_body(world, station_id=abroad.id, rrule="FREQ=WEEKLY;BYDAY=SU;COUNT=3", starts_on="2027-03-01"),
        headers=world.admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["upcoming"] == []
    clock.set(datetime(2027, 3, 1, tzinfo=UTC))
    assert await materialize_all(sessionmaker=sessionmaker, clock=clock, settings=settings) == 3
    events = await _occurrences(sessionmaker, response.json()["id"])
    # 14:30 EST is 19:30 UTC; from 14 March (EDT) it is 18:30 UTC. COUNT=3 stops the rule.
    assert [e.starts_at for e in events] == [
        datetime(2027, 3, 7, 19, 30, tzinfo=UTC),
        datetime(2027, 3, 14, 18, 30, tzinfo=UTC),
        datetime(2027, 3, 21, 18, 30, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"festival": "mid_autumn"}, "one_rule_required", "rrule"),
        ({"rrule": None}, "one_rule_required", "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "invalid_rrule", "rrule"),
        ({"rrule": "every saturday"}, "invalid_rrule", "rrule"),
        ({"rrule": "FREQ=HOURLY"}, "invalid_rrule", "rrule"),
        ({"rrule": "FREQ=DAILY;BYHOUR=9,15"}, "invalid_rrule", "rrule"),
        ({"rrule": "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30"}, "invalid_rrule", "rrule"),
        ({"rrule": "FREQ=WEEKLY;INTERVAL=0"}, "invalid_rrule", "rrule"),
        ({"rrule": None, "festival": "halloween"}, "unknown_festival", "festival"),
        ({"until": "2026-11-01"}, "until_before_start", "until"),
        ({"theme": "no_such_theme"}, "unknown_theme", "theme"),
        ({"roles": [{"name": "厨师", "count": 1, "skills": ["no_such_skill"]}]}, "unknown_skill", None),
        ({"start_time": "25:00"}, "validation_error", "start_time"),
        ({"roles": []}, "validation_error", "roles"),
    ],
)
async def test_bad_series_is_refused_and_nothing_stored(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    fields: dict[str, Any],
    code: str,
    field: str | None,
) -> None:
    response = await client.post("/api/v1/series", json=_body(world, **fields), headers=world.organizer)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert error["field"] == field
    assert await count_rows(sessionmaker, EventSeries) == 0
    assert await count_rows(sessionmaker, Event) == 0


async def test_malformed_rrule_answers_the_parsers_reason(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/api/v1/series", json=_body(world, rrule="FREQ=WEEKLY;BYDAY=XX"), headers=world.organizer
    )
    assert response.json()["error"]["message_en"] == "Invalid RRULE: invalid 'BYDAY': XX"


async def test_series_of_another_station_answer_404(client: httpx.AsyncClient, world: World) -> None:
    body = await _create(client, world)
    url = f"/api/v1/series/{body['id']}"
    assert (await client.get(url, headers=world.other_organizer)).status_code == 404
    assert (await client.patch(url, json={"title": "x"}, headers=world.other_organizer)).status_code == 404
    assert (await client.delete(url, headers=world.other_organizer)).status_code == 404
    foreign = await client.post(
        "/api/v1/series", json=_body(world, station_id=world.other.id), headers=world.organizer
    )
    assert foreign.status_code == 404
    assert (await client.get("/api/v1/series", headers=world.other_organizer)).json()["items"] == []
    assert (await client.get("/api/v1/series", headers=world.volunteer)).status_code == 403


async def test_list_pages_through_series(client: httpx.AsyncClient, world: World) -> None:
    ids = [(await _create(client, world, title=f"系列{i}"))["id"] for i in range(3)]
    first = (await client.get("/api/v1/series?limit=2", headers=world.organizer)).json()
    second = (
        await client.get(f"/api/v1/series?limit=2&cursor={first['next_cursor']}", headers=world.organizer)
    ).json()
    assert [s["id"] for s in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None


# --- the scheduler tick --------------------------------------------------------------------------


async def test_tick_adds_occurrences_as_the_horizon_moves(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
) -> None:
    body = await _create(client, world)
    assert await materialize_all(sessionmaker=sessionmaker, clock=clock, settings=settings) == 0
    clock.set(clock.now() + timedelta(days=35))
    assert await materialize_all(sessionmaker=sessionmaker, clock=clock, settings=settings) == 1
    keys = [e.occurrence_key for e in await _occurrences(sessionmaker, body["id"])]
    assert keys == ["2026-12-26", "2027-01-30", "2027-02-27", "2027-03-27"]


async def _bare_series(sessionmaker: async_sessionmaker[AsyncSession], world: World, n: int) -> list[int]:
    """Series rows not yet materialized, as a fresh deployment or a long pause leaves them."""
    async with sessionmaker() as session, session.begin():
        rows = [
            EventSeries(
                station_id=world.station.id,
                theme="party_volunteer_drive",
                title=f"每周党建志愿服务{i}",
                rrule=f"FREQ=WEEKLY;BYDAY={day}",
                starts_on=date(2026, 11, 1),
                start_time="09:00",
                duration_minutes=120,
                roles=[
                    {"name": "志愿者", "count": 4, "skills": [], "languages": [], "party_members_only": False}
                ],
                reminder_offsets=["P1D"],
                target_categories=[],
                publish=True,
                is_active=True,
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
                updated_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
            for i, day in enumerate(["MO", "WE", "SA"][:n])
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_concurrent_ticks_create_each_occurrence_once(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings
) -> None:
    series_ids = await _bare_series(sessionmaker, world, 3)
    created = await asyncio.gather(
        *(materialize_all(sessionmaker=sessionmaker, clock=clock, settings=settings) for _ in range(3))
    )
    # 2026-11-30 … 2027-02-27: 13 Mondays, 13 Wednesdays, 13 Saturdays.
    assert sum(created) == 39
    async with sessionmaker() as session:
        per_key = await session.execute(
            select(Event.series_id, Event.occurrence_key, func.count())
            .group_by(Event.series_id, Event.occurrence_key)
            .having(func.count() > 1)
        )
        assert per_key.all() == []
        assert await session.scalar(select(func.count()).select_from(Event)) == 39
    assert {e.series_id for e in await _all_events(sessionmaker)} == set(series_ids)
    assert len(await domain_events(sessionmaker, "EventPublished")) == 39


async def _all_events(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Event]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Event)))


async def test_racing_runs_on_one_series_meet_at_the_unique_constraint(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: FixedClock, settings: Settings
) -> None:
    """Without the series lock (an edit and a tick, say), the (series_id, occurrence_key)
    constraint still lets each occurrence in once: the loser's insert fails in its savepoint
    and it carries on."""
    [series_id] = await _bare_series(sessionmaker, world, 1)

    async def run() -> int:
        async with sessionmaker() as session, session.begin():
            series = await session.get(EventSeries, series_id)
            assert series is not None
            zone = await station_zone(session, series.station_id)
            return await materialize_series(session, clock, settings, series=series, zone=zone)

    created = await asyncio.gather(run(), run())
    assert sum(created) == 13
    assert await count_rows(sessionmaker, Event) == 13


# --- editing -------------------------------------------------------------------------------------


async def _weekly_with_history(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    **fields: Any,
) -> tuple[dict[str, Any], Event, list[dict[str, Any]]]:
    """A Saturday series (14:00) that already ran yesterday (28 November), whose first upcoming
    occurrence (5 December) was edited on its own; the rest follow the series."""
    body = await _create(
        client, world, rrule="FREQ=WEEKLY;BYDAY=SA", starts_on="2026-11-01", start_time="14:00", **fields
    )
    async with sessionmaker() as session, session.begin():
        past = await create_event(
            session,
            clock,
            world.station,
            starts_in=timedelta(days=-1, hours=-2),  # Saturday 28 November, 14:00 in Kaili
            theme="birthday_party",
            title="我们共成长·集体生日会",
            series_id=body["id"],
            occurrence_key="2026-11-28",
        )
    upcoming = body["upcoming"]
    assert upcoming[0]["occurrence_key"] == "2026-12-05"
    detached = await client.patch(
        f"/api/v1/events/{upcoming[0]['event_id']}", json={"title": "特别场"}, headers=world.organizer
    )
    assert detached.json()["detached"] is True
    return body, past, upcoming


async def test_edit_moves_future_occurrences_and_leaves_past_and_detached_alone(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    body, past, upcoming = await _weekly_with_history(client, world, sessionmaker, clock)
    response = await client.patch(
        f"/api/v1/series/{body['id']}",
        json={"start_time": "15:00", "title": "周六亲子活动", "location": "村委会二楼"},
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    events = {e.occurrence_key: e for e in await _occurrences(sessionmaker, body["id"])}
    before, detached = events.pop("2026-11-28"), events.pop("2026-12-05")
    assert (before.starts_at, before.title, before.sequence) == (past.starts_at, past.title, 0)
    assert (detached.starts_at, detached.title) == (datetime(2026, 12, 5, 6, tzinfo=UTC), "特别场")
    assert detached.location is None
    assert len(events) == len(upcoming) - 1  # every other occurrence follows the series
    for key, event in events.items():
        assert event.starts_at == datetime.fromisoformat(f"{key}T15:00:00+08:00")
        assert (event.title, event.location, event.detached) == ("周六亲子活动", "村委会二楼", False)
    moved = await domain_events(sessionmaker, "EventRescheduled")
    assert {m.aggregate_id for m in moved} == {e.id for e in events.values()}
    assert moved[0].payload["old_starts_at"] == "2026-12-12T06:00:00+00:00"


async def test_new_rule_cancels_published_and_deletes_draft_occurrences(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    person = await world.person(name="杨秀英")
    body, past, upcoming = await _weekly_with_history(client, world, sessionmaker, clock)
    published_id = upcoming[1]["event_id"]  # Saturday 12 December, with a confirmed volunteer
    assert (
        await client.post(f"/api/v1/events/{published_id}/publish", headers=world.organizer)
    ).status_code == 200
    async with sessionmaker() as session, session.begin():
        event = await session.get(Event, published_id)
        assert event is not None
        await add_signup(
            session,
            event_id=published_id,
            role_id=(await _first_role_id(session, published_id)),
            person_id=person.id,
            status=SignupStatus.confirmed,
        )
    draft_ids = {o["event_id"] for o in upcoming[2:]}

    response = await client.patch(
        f"/api/v1/series/{body['id']}", json={"rrule": "FREQ=WEEKLY;BYDAY=SU"}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    events = {e.id: e for e in await _occurrences(sessionmaker, body["id"])}
    assert events[published_id].status == EventStatus.cancelled
    assert not draft_ids & set(events)  # Saturday drafts nobody saw are gone
    [cancelled] = await domain_events(sessionmaker, "EventCancelled")
    assert cancelled.aggregate_id == published_id
    assert cancelled.payload["was_published"] is True
    sundays = sorted(e.occurrence_key or "" for e in events.values() if not e.detached and e.id != past.id)
    sundays.remove("2026-12-12")  # the cancelled Saturday
    assert sundays[0] == "2026-11-29"  # today, 14:00: still ahead
    assert all(date.fromisoformat(k).weekday() == 6 for k in sundays)
    # The past and the detached Saturday stay.
    assert {past.id, upcoming[0]["event_id"]} <= set(events)
    assert response.json()["festival"] is None
    # Once delivered, the cancellation tells the volunteer who had signed up.
    await app.state.relay.drain()
    async with sessionmaker() as session:
        notices = await session.scalars(
            select(Notification).where(
                Notification.event_id == published_id, Notification.reason == "cancelled"
            )
        )
        assert {n.person_id for n in notices} == {person.id}


async def _first_role_id(session: AsyncSession, event_id: int) -> int:
    role_id = await session.scalar(
        select(EventRole.id).where(EventRole.event_id == event_id).order_by(EventRole.position)
    )
    assert role_id is not None
    return role_id


async def test_new_roles_reach_drafts_and_spare_published_occurrences(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world)
    first = body["upcoming"][0]["event_id"]
    assert (await client.post(f"/api/v1/events/{first}/publish", headers=world.organizer)).status_code == 200
    response = await client.patch(
        f"/api/v1/series/{body['id']}",
        json={"roles": [{"name": "主持", "count": 2}, {"name": "厨师", "count": 3}]},
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    async with sessionmaker() as session:
        rows = await session.execute(
            select(EventRole.event_id, EventRole.name, EventRole.count).order_by(
                EventRole.event_id, EventRole.position
            )
        )
        roles: dict[int, list[tuple[str, int]]] = {}
        for event_id, name, count in rows:
            roles.setdefault(event_id, []).append((name, count))
    assert roles.pop(first) == [("主持", 1), ("陪伴志愿者", 6), ("摄影", 1)]  # people signed up for these
    assert list(roles.values()) == [[("主持", 2), ("厨师", 3)]] * 2
    capacities = {e.id: e.capacity for e in await _occurrences(sessionmaker, body["id"])}
    assert sorted(capacities.values()) == [5, 5, 8]


async def test_turning_publish_on_publishes_the_future_drafts(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world)
    response = await client.patch(
        f"/api/v1/series/{body['id']}", json={"publish": True}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    assert {o["status"] for o in response.json()["upcoming"]} == {"published"}
    assert len(await domain_events(sessionmaker, "EventPublished")) == 3


async def test_switching_to_a_festival_drops_the_rrule(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world, theme="festival_visit")
    response = await client.patch(
        f"/api/v1/series/{body['id']}", json={"festival": "laba"}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    assert (response.json()["rrule"], response.json()["festival"]) == (None, "laba")
    assert [e.occurrence_key for e in await _occurrences(sessionmaker, body["id"])] == ["2027-01-15"]


async def test_bad_edit_changes_nothing(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world)
    before = [(e.id, e.starts_at) for e in await _occurrences(sessionmaker, body["id"])]
    for patch, code in [
        ({"rrule": "FREQ=SOMETIMES", "start_time": "16:00"}, "invalid_rrule"),
        ({"until": "2026-01-01"}, "until_before_start"),
        ({"festival": "halloween"}, "unknown_festival"),
        ({"title": None}, "validation_error"),
        ({"roles": []}, "validation_error"),
    ]:
        response = await client.patch(f"/api/v1/series/{body['id']}", json=patch, headers=world.organizer)
        assert (response.status_code, response.json()["error"]["code"]) == (422, code)
    after = await client.get(f"/api/v1/series/{body['id']}", headers=world.organizer)
    assert (after.json()["rrule"], after.json()["start_time"]) == (LAST_SATURDAY, "14:30")
    assert [(e.id, e.starts_at) for e in await _occurrences(sessionmaker, body["id"])] == before


async def test_shorter_until_drops_occurrences_after_it(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world)
    response = await client.patch(
        f"/api/v1/series/{body['id']}", json={"until": "2027-01-31"}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    assert [e.occurrence_key for e in await _occurrences(sessionmaker, body["id"])] == [
        "2026-12-26",
        "2027-01-30",
    ]


# --- stopping ------------------------------------------------------------------------------------


async def test_stopping_cancels_future_occurrences_and_the_tick_leaves_it(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    settings: Settings,
) -> None:
    body, past, upcoming = await _weekly_with_history(client, world, sessionmaker, clock, publish=True)
    response = await client.delete(f"/api/v1/series/{body['id']}", headers=world.organizer)
    assert response.status_code == 204
    events = {e.id: e for e in await _occurrences(sessionmaker, body["id"])}
    before, detached = events.pop(past.id), events.pop(upcoming[0]["event_id"])
    assert before.status == EventStatus.published  # history; the completion tick handles it
    assert detached.status == EventStatus.published
    assert len(events) == len(upcoming) - 1
    assert {e.status for e in events.values()} == {EventStatus.cancelled}
    assert {e.cancel_reason for e in events.values()} == {"系列活动已停止，此次活动取消"}
    assert len(await domain_events(sessionmaker, "EventCancelled")) == len(events)
    stopped = await client.get(f"/api/v1/series/{body['id']}", headers=world.organizer)
    assert stopped.json()["is_active"] is False
    again = await client.patch(f"/api/v1/series/{body['id']}", json={"title": "x"}, headers=world.organizer)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "series_stopped")
    clock.set(clock.now() + timedelta(days=60))
    assert await materialize_all(sessionmaker=sessionmaker, clock=clock, settings=settings) == 0
    assert await count_rows(sessionmaker, Event) == len(upcoming) + 1


async def test_a_role_count_changed_on_one_occurrence_detaches_it(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Like any edit of one occurrence: a later edit of the series leaves its places alone."""
    body = await _create(client, world)
    first, second = (o["event_id"] for o in body["upcoming"][:2])
    async with sessionmaker() as session:
        role_id = await _first_role_id(session, first)
    changed = await client.patch(
        f"/api/v1/events/{first}/roles/{role_id}", json={"count": 7}, headers=world.organizer
    )
    assert changed.status_code == 200, changed.text
    occurrences = {e.id: e for e in await _occurrences(sessionmaker, body["id"])}
    assert (occurrences[first].detached, occurrences[second].detached) == (True, False)
