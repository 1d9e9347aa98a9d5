from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from coordinator.clock import FixedClock
from coordinator.events.models import Event, EventSeries, EventStatus, Signup, SignupStatus
from tests.api.event_making import SATURDAY_2PM, add_signup, event_body
from tests.factories import create_event, create_person
from tests.stored import count_rows, domain_events
from tests.world import World


async def _create(client: httpx.AsyncClient, world: World, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json=event_body(world, **fields), headers=world.organizer)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _stored_event(sessionmaker: async_sessionmaker[AsyncSession], event_id: int) -> Event:
    async with sessionmaker() as session:
        event = await session.scalar(
            select(Event).where(Event.id == event_id).options(selectinload(Event.roles))
        )
        assert event is not None
        return event


# --- creating ------------------------------------------------------------------------------------


async def test_create_from_theme_applies_its_defaults(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _create(client, world)
    assert body["title"] == "我们共成长·集体生日会"
    assert body["status"] == "draft"
    assert body["starts_at"] == "2026-12-12T14:00:00+08:00"
    assert body["ends_at"] == "2026-12-12T16:00:00+08:00"  # the theme lasts 120 minutes
    assert [(r["name"], r["count"], r["confirmed"], r["waitlisted"]) for r in body["roles"]] == [
        ("主持", 1, 0, 0),
        ("陪伴志愿者", 6, 0, 0),
        ("摄影", 1, 0, 0),
    ]
    assert body["roles"][1]["skills"] == ["childcare"]
    assert body["capacity"] == 8
    assert body["reminder_offsets"] == ["P1D", "PT2H"]
    assert body["target_categories"] == ["left_behind_child", "child_in_difficulty"]
    assert body["sequence"] == 0
    assert body["holiday"] is None
    created = await domain_events(sessionmaker, "EventCreated")
    assert [(e.aggregate_type, e.aggregate_id, e.station_id) for e in created] == [
        ("event", body["id"], world.station.id)
    ]
    assert created[0].payload["starts_at"] == "2026-12-12T06:00:00+00:00"


async def test_create_overrides_every_default(client: httpx.AsyncClient, world: World) -> None:
    organization = await world.organization()
    body = await _create(
        client,
        world,
        theme="heritage",
        title="芦笙进校园",
        description="芦笙演奏与制作体验",
        ends_at="2026-12-12T17:30:00+08:00",
        location="营盘坡小学",
        organization_id=organization.id,
        capacity=12,
        roles=[
            {"name": "芦笙老师", "count": 2, "skills": ["lusheng", "lusheng"], "languages": ["miao"]},
            {"name": "党员助教", "count": 4, "party_members_only": True},
        ],
        reminder_offsets=["PT30M", "P2D", "PT2H"],
        target_categories=["migrant_child"],
    )
    assert (body["title"], body["location"], body["organization_id"]) == (
        "芦笙进校园",
        "营盘坡小学",
        organization.id,
    )
    assert body["ends_at"] == "2026-12-12T17:30:00+08:00"
    assert body["capacity"] == 12  # more than the 6 role places: kept as given
    assert body["roles"][0]["skills"] == ["lusheng"]
    assert body["roles"][1]["party_members_only"] is True
    assert body["reminder_offsets"] == ["P2D", "PT2H", "PT30M"]  # longest first
    assert body["target_categories"] == ["migrant_child"]


async def test_capacity_defaults_to_the_sum_of_role_counts(client: httpx.AsyncClient, world: World) -> None:
    body = await _create(client, world, roles=[{"name": "志愿者", "count": 3}, {"name": "摄影", "count": 2}])
    assert body["capacity"] == 5


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        pytest.param(
            {"ends_at": "2026-12-12T13:00:00+08:00"}, "ends_before_start", "ends_at", id="end-before-start"
        ),
        pytest.param({"ends_at": SATURDAY_2PM}, "ends_before_start", "ends_at", id="end-equals-start"),
        pytest.param(
            {"capacity": 3, "roles": [{"name": "志愿者", "count": 4}]},
            "role_counts_exceed_capacity",
            "capacity",
            id="counts-above-capacity",
        ),
        pytest.param({"capacity": -1}, "validation_error", "capacity", id="negative-capacity"),
        pytest.param(
            {"roles": [{"name": "志愿者", "count": -2}]},
            "validation_error",
            "roles.0.count",
            id="negative-count",
        ),
        pytest.param(
            {"roles": [{"name": "志愿者", "count": 1}, {"name": "志愿者", "count": 2}]},
            "validation_error",
            "roles",
            id="duplicate-role",
        ),
        pytest.param({"theme": "karaoke"}, "unknown_theme", "theme", id="unknown-theme"),
        pytest.param(
            {"roles": [{"name": "志愿者", "count": 1, "skills": ["juggling"]}]},
            "unknown_skill",
            "roles.0.skills",
            id="unknown-skill",
        ),
        pytest.param(
            {"roles": [{"name": "志愿者", "count": 1, "languages": ["klingon"]}]},
            "unknown_language",
            "roles.0.languages",
            id="unknown-language",
        ),
        pytest.param(
            {"reminder_offsets": ["1 day"]}, "validation_error", "reminder_offsets", id="bad-offset"
        ),
        pytest.param(
            {"reminder_offsets": ["PT0M"]}, "validation_error", "reminder_offsets", id="zero-offset"
        ),
        pytest.param(
            {"target_categories": ["rich"]}, "unknown_category", "target_categories", id="bad-category"
        ),
        pytest.param({"starts_at": "2026-12-12T14:00:00"}, "validation_error", "starts_at", id="naive-time"),
        pytest.param({"roles": []}, "validation_error", "roles", id="no-roles"),
    ],
)
async def test_bad_event_is_refused_and_nothing_stored(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    fields: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = await client.post("/api/v1/events", json=event_body(world, **fields), headers=world.organizer)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert error["message_en"]
    assert await count_rows(sessionmaker, Event) == 0
    assert await domain_events(sessionmaker, "EventCreated") == []


async def test_organization_of_another_station_is_refused(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    other_organization = await world.organization(station=world.other)
    body = event_body(world, organization_id=other_organization.id)
    response = await client.post("/api/v1/events", json=body, headers=world.organizer)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_organization"
    assert await count_rows(sessionmaker, Event) == 0


async def test_custom_station_theme_is_a_valid_theme_only_at_its_station(
    client: httpx.AsyncClient, world: World
) -> None:
    theme = {
        "station_id": world.station.id,
        "code": "lusheng_class",
        "name_zh": "芦笙课堂",
        "name_en": "Lusheng class",
        "duration_minutes": 90,
        "roles": [{"name": "芦笙老师", "count": 1, "skills": ["lusheng"]}],
    }
    assert (await client.post("/api/v1/themes", json=theme, headers=world.admin)).status_code == 201
    body = await _create(client, world, theme="lusheng_class")
    assert (body["title"], body["ends_at"], body["capacity"]) == ("芦笙课堂", "2026-12-12T15:30:00+08:00", 1)
    elsewhere = event_body(world, station_id=world.other.id, theme="lusheng_class")
    response = await client.post("/api/v1/events", json=elsewhere, headers=world.admin)
    assert response.json()["error"]["code"] == "unknown_theme"


# --- who may do what ---------------------------------------------------------------------------------


async def test_organizer_cannot_create_or_see_another_stations_events(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post(
        "/api/v1/events", json=event_body(world, station_id=world.other.id), headers=world.organizer
    )
    assert response.status_code == 404
    theirs = (
        await client.post(
            "/api/v1/events", json=event_body(world, station_id=world.other.id), headers=world.admin
        )
    ).json()
    for method, path in [
        ("GET", f"/api/v1/events/{theirs['id']}"),
        ("PATCH", f"/api/v1/events/{theirs['id']}"),
        ("POST", f"/api/v1/events/{theirs['id']}/publish"),
        ("POST", f"/api/v1/events/{theirs['id']}/cancel"),
        ("GET", f"/api/v1/events/{theirs['id']}.ics"),
    ]:
        answer = await client.request(method, path, json={"title": "x"}, headers=world.organizer)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"]["code"] == "event_not_found"
    listed = await client.get("/api/v1/events", headers=world.organizer)
    assert listed.json()["items"] == []
    stored = await _stored_event(sessionmaker, theirs["id"])
    assert (stored.title, stored.status) == ("我们共成长·集体生日会", EventStatus.draft)


async def test_unknown_event_is_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/api/v1/events/999999", headers=world.admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "event_not_found"


async def test_volunteer_reads_published_events_of_their_station_only(
    client: httpx.AsyncClient, world: World
) -> None:
    draft = await _create(client, world)
    published = await _create(client, world, starts_at="2026-12-13T09:00:00+08:00")
    await client.post(f"/api/v1/events/{published['id']}/publish", headers=world.organizer)

    assert (
        await client.post("/api/v1/events", json=event_body(world), headers=world.volunteer)
    ).status_code == 403
    assert (await client.get(f"/api/v1/events/{draft['id']}", headers=world.volunteer)).status_code == 404
    seen = await client.get(f"/api/v1/events/{published['id']}", headers=world.volunteer)
    assert seen.status_code == 200
    listed = await client.get("/api/v1/events", headers=world.volunteer)
    assert [e["id"] for e in listed.json()["items"]] == [published["id"]]
    patch = await client.patch(
        f"/api/v1/events/{published['id']}", json={"title": "x"}, headers=world.volunteer
    )
    assert patch.status_code == 403


# --- listing ------------------------------------------------------------------------------------------


async def test_list_filters_and_pages_in_start_order(client: httpx.AsyncClient, world: World) -> None:
    starts = ["2026-12-20T09:00:00+08:00", "2026-12-05T09:00:00+08:00", "2026-12-10T09:00:00+08:00"]
    ids = [(await _create(client, world, starts_at=s))["id"] for s in starts]
    same_time = (await _create(client, world, theme="home_visit", starts_at=starts[1]))["id"]
    await client.post(f"/api/v1/events/{ids[2]}/publish", headers=world.organizer)
    await client.post(
        "/api/v1/events", json=event_body(world, station_id=world.other.id), headers=world.admin
    )

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"station_id": world.station.id, "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/events", params=params, headers=world.organizer)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [min(ids[1], same_time), max(ids[1], same_time), ids[2], ids[0]]

    async def listed(**params: Any) -> list[int]:
        answer = await client.get("/api/v1/events", params=params, headers=world.organizer)
        assert answer.status_code == 200, answer.text
        return [e["id"] for e in answer.json()["items"]]

    assert await listed(theme="home_visit") == [same_time]
    assert await listed(status="published") == [ids[2]]
    window = {"from": "2026-12-06T00:00:00+08:00", "to": "2026-12-20T09:00:00+08:00"}
    assert await listed(**window) == [ids[2]]
    bad = await client.get("/api/v1/events", params={"cursor": "nonsense"}, headers=world.organizer)
    assert bad.json()["error"]["code"] == "invalid_cursor"


async def test_roles_show_confirmed_and_waitlisted_counts(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    person = await world.person(name="杨秀英")
    async with sessionmaker() as session, session.begin():
        event = await create_event(
            session, clock, world.station, roles=[{"name": "志愿者", "count": 1, "confirmed_count": 1}]
        )
        role_id = event.roles[0].id
        await add_signup(
            session,
            event_id=event.id,
            role_id=role_id,
            person_id=person.id,
            status=SignupStatus.waitlisted,
        )
    body = (await client.get(f"/api/v1/events/{event.id}", headers=world.organizer)).json()
    assert [(r["count"], r["confirmed"], r["waitlisted"]) for r in body["roles"]] == [(1, 1, 1)]


# --- holidays -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        # 01:00 in Kaili is still the 24th in UTC: the station's local date decides.
        pytest.param(
            "2026-09-25T01:00:00+08:00",
            {"kind": "holiday", "name": "Mid-autumn Festival", "name_zh": "中秋节", "in_lieu": False},
            id="mid-autumn",
        ),
        pytest.param(
            "2026-10-10T09:00:00+08:00",
            {"kind": "makeup_workday", "name": "National Day", "name_zh": "国庆节", "in_lieu": False},
            id="makeup-workday",
        ),
        pytest.param("2026-10-14T09:00:00+08:00", None, id="ordinary-day"),
        pytest.param("2031-10-01T09:00:00+08:00", None, id="year-not-published-yet"),
    ],
)
async def test_event_shows_the_statutory_holiday_of_its_local_date(
    client: httpx.AsyncClient, world: World, starts_at: str, expected: dict[str, Any] | None
) -> None:
    body = await _create(client, world, starts_at=starts_at)
    assert body["holiday"] == expected


# --- changing -----------------------------------------------------------------------------------------


async def test_patch_changes_fields_roles_and_bumps_sequence_for_visible_changes(
    client: httpx.AsyncClient,
    world: World,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(client, world)
    clock.set(clock.now() + timedelta(hours=1))
    photographer = created["roles"][2]
    response = await client.patch(
        f"/api/v1/events/{created['id']}",
        json={
            "title": "十二月集体生日会",
            "location": "儿童之家",
            "roles": [
                {"id": photographer["id"], "name": "摄影摄像", "count": 2, "skills": ["photography"]},
                {"name": "厨师", "count": 1, "skills": ["cooking"]},
            ],
        },
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["location"]) == ("十二月集体生日会", "儿童之家")
    assert [(r["name"], r["count"]) for r in body["roles"]] == [
        ("主持", 1),
        ("陪伴志愿者", 6),
        ("摄影摄像", 2),
        ("厨师", 1),
    ]
    assert body["roles"][2]["id"] == photographer["id"]  # changed in place, sign-ups keep their role
    assert body["capacity"] == 10  # followed the counts, as it was never set apart from them
    assert body["sequence"] == 1
    assert body["updated_at"] == "2026-11-29T11:00:00+08:00"
    updated = await domain_events(sessionmaker, "EventUpdated")
    assert updated[0].payload["changed"] == ["capacity", "location", "roles", "title"]

    roles_only = await client.patch(
        f"/api/v1/events/{created['id']}",
        json={"roles": [{"name": "厨师", "count": 2}]},
        headers=world.organizer,
    )
    assert roles_only.json()["sequence"] == 1  # places are not in anyone's calendar
    unchanged = await client.patch(
        f"/api/v1/events/{created['id']}", json={"title": "十二月集体生日会"}, headers=world.organizer
    )
    assert unchanged.status_code == 200
    assert len(await domain_events(sessionmaker, "EventUpdated")) == 2  # a no-op writes nothing


async def test_patch_keeps_a_set_capacity_and_refuses_counts_above_it(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await _create(client, world, roles=[{"name": "志愿者", "count": 4}], capacity=6)
    grown = await client.patch(
        f"/api/v1/events/{created['id']}",
        json={"roles": [{"name": "志愿者", "count": 5}]},
        headers=world.organizer,
    )
    assert grown.json()["capacity"] == 6
    too_many = await client.patch(
        f"/api/v1/events/{created['id']}",
        json={"roles": [{"name": "志愿者", "count": 7}]},
        headers=world.organizer,
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "role_counts_exceed_capacity"
    negative = await client.patch(
        f"/api/v1/events/{created['id']}", json={"capacity": -3}, headers=world.organizer
    )
    assert negative.status_code == 422
    stored = await _stored_event(sessionmaker, created["id"])
    assert (stored.capacity, stored.roles[0].count) == (6, 5)
    both = await client.patch(
        f"/api/v1/events/{created['id']}",
        json={"capacity": 8, "roles": [{"name": "志愿者", "count": 7}]},
        headers=world.organizer,
    )
    assert (both.json()["capacity"], both.json()["roles"][0]["count"]) == (8, 7)


async def test_lowering_a_count_below_the_places_held_is_refused(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    """Confirmed people and open invitations both hold places: 3 confirmed + 1 invited = 4."""
    person = await world.person(name="杨秀英")
    async with sessionmaker() as session, session.begin():
        event = await create_event(
            session, clock, world.station, roles=[{"name": "志愿者", "count": 5, "confirmed_count": 3}]
        )
        await add_signup(
            session,
            event_id=event.id,
            role_id=event.roles[0].id,
            person_id=person.id,
            status=SignupStatus.invited,
        )
    path = f"/api/v1/events/{event.id}"
    refused = await client.patch(
        path, json={"roles": [{"name": "志愿者", "count": 3}]}, headers=world.organizer
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("role_count_below_confirmed", "roles.0.count")
    assert (error["details"]["confirmed"], error["details"]["invited"]) == (3, 1)
    stored = await _stored_event(sessionmaker, event.id)
    assert (stored.roles[0].count, stored.capacity) == (5, 5)
    assert await domain_events(sessionmaker, "EventUpdated") == []
    allowed = await client.patch(
        path, json={"roles": [{"name": "志愿者", "count": 4}]}, headers=world.organizer
    )
    assert allowed.status_code == 200
    assert allowed.json()["capacity"] == 4


async def test_raising_a_count_promotes_waiting_people_in_arrival_order(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    yang = await world.person(name="杨秀英")
    async with sessionmaker() as session, session.begin():
        event = await create_event(
            session,
            clock,
            world.station,
            roles=[{"name": "志愿者", "count": 0, "next_waitlist_seq": 4}],
        )
        people = [yang] + [await create_person(session, clock, world.station) for _ in range(2)]
        for seq, person in zip((2, 1, 3), people, strict=True):
            await add_signup(
                session,
                event_id=event.id,
                role_id=event.roles[0].id,
                person_id=person.id,
                status=SignupStatus.waitlisted,
                waitlist_seq=seq,
            )
    response = await client.patch(
        f"/api/v1/events/{event.id}",
        json={"roles": [{"name": "志愿者", "count": 2}]},
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    [role] = response.json()["roles"]
    assert (role["count"], role["confirmed"], role["waitlisted"]) == (2, 2, 1)
    promoted = await domain_events(sessionmaker, "SignupPromoted")
    async with sessionmaker() as session:
        signups = {
            s.person_id: s.status
            for s in await session.scalars(select(Signup).where(Signup.event_id == event.id))
        }
    assert signups == {
        people[1].id: SignupStatus.confirmed,
        people[0].id: SignupStatus.confirmed,
        people[2].id: SignupStatus.waitlisted,
    }
    assert len(promoted) == 2


async def test_patching_an_unknown_role_id_is_refused(client: httpx.AsyncClient, world: World) -> None:
    created = await _create(client, world)
    response = await client.patch(
        f"/api/v1/events/{created['id']}",
        json={"roles": [{"id": 987654, "name": "主持", "count": 1}]},
        headers=world.organizer,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_role"


async def test_editing_an_occurrence_of_a_series_detaches_it(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        series = EventSeries(
            station_id=world.station.id,
            theme="birthday_party",
            title="每月集体生日会",
            rrule="FREQ=MONTHLY;BYDAY=2SA",
            starts_on=datetime(2026, 12, 1).date(),
            start_time="14:00",
            duration_minutes=120,
            roles=[],
            reminder_offsets=["P1D"],
            target_categories=[],
            publish=True,
            is_active=True,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(series)
        await session.flush()
        event = await create_event(
            session, clock, world.station, series_id=series.id, occurrence_key="2026-12-12"
        )
    response = await client.patch(
        f"/api/v1/events/{event.id}", json={"location": "村委会"}, headers=world.organizer
    )
    assert response.json()["detached"] is True
    assert (await _stored_event(sessionmaker, event.id)).detached is True


# --- lifecycle ----------------------------------------------------------------------------------------


async def test_publish_opens_a_draft_once(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await _create(client, world)
    response = await client.post(f"/api/v1/events/{created['id']}/publish", headers=world.organizer)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["published_at"]) == ("published", "2026-11-29T10:00:00+08:00")
    again = await client.post(f"/api/v1/events/{created['id']}/publish", headers=world.organizer)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "event_not_draft")
    published = await domain_events(sessionmaker, "EventPublished")
    assert [e.aggregate_id for e in published] == [created["id"]]


async def test_a_past_event_cannot_be_published(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await _create(client, world, starts_at="2026-11-29T09:00:00+08:00")  # an hour ago
    response = await client.post(f"/api/v1/events/{created['id']}/publish", headers=world.organizer)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "event_in_past")
    assert (await _stored_event(sessionmaker, created["id"])).status == EventStatus.draft


async def test_reschedule_moves_the_event_and_reports_old_and_new_times(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await _create(client, world)
    await client.post(f"/api/v1/events/{created['id']}/publish", headers=world.organizer)
    response = await client.post(
        f"/api/v1/events/{created['id']}/reschedule",
        json={"starts_at": "2026-12-13T06:00:00Z"},
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["starts_at"], body["ends_at"]) == ("2026-12-13T14:00:00+08:00", "2026-12-13T16:00:00+08:00")
    assert body["sequence"] == 1
    [moved] = await domain_events(sessionmaker, "EventRescheduled")
    assert moved.payload["old_starts_at"] == "2026-12-12T06:00:00+00:00"
    assert moved.payload["old_ends_at"] == "2026-12-12T08:00:00+00:00"
    assert moved.payload["new_starts_at"] == "2026-12-13T06:00:00+00:00"
    assert moved.payload["new_ends_at"] == "2026-12-13T08:00:00+00:00"

    backwards = await client.post(
        f"/api/v1/events/{created['id']}/reschedule",
        json={"starts_at": "2026-12-13T14:00:00+08:00", "ends_at": "2026-12-13T13:00:00+08:00"},
        headers=world.organizer,
    )
    assert (backwards.status_code, backwards.json()["error"]["code"]) == (422, "ends_before_start")
    into_past = await client.post(
        f"/api/v1/events/{created['id']}/reschedule",
        json={"starts_at": "2026-11-28T14:00:00+08:00"},
        headers=world.organizer,
    )
    assert (into_past.status_code, into_past.json()["error"]["code"]) == (422, "starts_in_past")
    assert len(await domain_events(sessionmaker, "EventRescheduled")) == 1


async def test_cancel_ends_the_lifecycle(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = await _create(client, world)
    await client.post(f"/api/v1/events/{created['id']}/publish", headers=world.organizer)
    response = await client.post(
        f"/api/v1/events/{created['id']}/cancel", json={"reason": "暴雨预警"}, headers=world.organizer
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancel_reason"], body["sequence"]) == ("cancelled", "暴雨预警", 1)
    [cancelled] = await domain_events(sessionmaker, "EventCancelled")
    assert cancelled.payload["reason"] == "暴雨预警"
    path = f"/api/v1/events/{created['id']}"
    for method, suffix, payload in [
        ("PATCH", "", {"title": "x"}),
        ("POST", "/reschedule", {"starts_at": "2026-12-14T14:00:00+08:00"}),
        ("POST", "/publish", None),
        ("POST", "/cancel", {}),
    ]:
        answer = await client.request(method, path + suffix, json=payload, headers=world.organizer)
        assert (answer.status_code, answer.json()["error"]["code"]) == (409, "event_cancelled"), suffix
    stored = await _stored_event(sessionmaker, created["id"])
    assert (stored.title, stored.sequence) == ("我们共成长·集体生日会", 1)


async def test_a_completed_event_cannot_change(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        event = await create_event(
            session, clock, world.station, starts_in=timedelta(days=-2), status=EventStatus.completed
        )
    for suffix, payload in [
        ("", {"title": "x"}),
        ("/cancel", None),
        ("/reschedule", {"starts_at": SATURDAY_2PM}),
    ]:
        method = "PATCH" if suffix == "" else "POST"
        answer = await client.request(
            method, f"/api/v1/events/{event.id}{suffix}", json=payload, headers=world.admin
        )
        assert (answer.status_code, answer.json()["error"]["code"]) == (409, "event_completed")


# --- concurrency -------------------------------------------------------------------------------------


async def test_concurrent_publishes_publish_once(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The event row lock (FOR UPDATE; BEGIN IMMEDIATE on SQLite) makes the status check and
    the change one step: exactly one request publishes."""
    created = await _create(client, world)
    answers = await asyncio.gather(
        *(client.post(f"/api/v1/events/{created['id']}/publish", headers=world.organizer) for _ in range(8))
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert len(await domain_events(sessionmaker, "EventPublished")) == 1


async def test_concurrent_reschedules_each_bump_the_sequence(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """No lost update: every move is applied on top of the previous one, so SEQUENCE counts them
    all and each reported old time is the time another move set (or the original)."""
    created = await _create(client, world)
    start = datetime(2026, 12, 12, 6, tzinfo=UTC)
    moves = [start + timedelta(days=i) for i in range(1, 9)]
    answers = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/events/{created['id']}/reschedule",
                json={"starts_at": m.isoformat()},
                headers=world.organizer,
            )
            for m in moves
        )
    )
    assert all(a.status_code == 200 for a in answers)
    stored = await _stored_event(sessionmaker, created["id"])
    assert stored.sequence == len(moves)
    rescheduled = await domain_events(sessionmaker, "EventRescheduled")
    olds = [datetime.fromisoformat(e.payload["old_starts_at"]) for e in rescheduled]
    news = [datetime.fromisoformat(e.payload["new_starts_at"]) for e in rescheduled]
    assert olds == [start, *news[:-1]]
    assert stored.starts_at == news[-1]
    assert stored.ends_at - stored.starts_at == timedelta(hours=2)


async def test_lowering_a_count_while_people_sign_up_never_overbooks(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    """PATCH locks the event, then the role rows — the order sign-ups lock them in — so the
    places held that it checks cannot change under it: whatever interleaving happens, the role
    never ends with more confirmed people than places."""
    async with sessionmaker() as session, session.begin():
        event = await create_event(session, clock, world.station, roles=[{"name": "志愿者", "count": 8}])
        people = [await create_person(session, clock, world.station) for _ in range(8)]
    signups = [
        client.post(f"/api/v1/events/{event.id}/signups", json={"person_id": p.id}, headers=world.organizer)
        for p in people
    ]
    lower = client.patch(
        f"/api/v1/events/{event.id}",
        json={"roles": [{"name": "志愿者", "count": 4}]},
        headers=world.organizer,
    )
    answers = await asyncio.gather(lower, *signups)
    assert answers[0].status_code in (200, 409), answers[0].text
    assert all(a.status_code == 201 for a in answers[1:]), [a.text for a in answers[1:]]
    async with sessionmaker() as session:
        stored = await _stored_event(sessionmaker, event.id)
        confirmed = await session.scalar(
            select(func.count()).where(Signup.event_id == event.id, Signup.status == SignupStatus.confirmed)
        )
    role = stored.roles[0]
    assert confirmed == role.confirmed_count <= role.count
    assert role.count == (4 if answers[0].status_code == 200 else 8)
    assert stored.capacity == role.count


async def test_patch_validates_like_create_and_stores_nothing_on_error(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organization = await world.organization()
    other_organization = await world.organization(station=world.other)
    created = await _create(client, world)
    path = f"/api/v1/events/{created['id']}"
    for payload, code in [
        ({"title": "新标题", "organization_id": other_organization.id}, "unknown_organization"),
        ({"title": None}, "validation_error"),
        ({"reminder_offsets": ["P1D", "tomorrow"]}, "validation_error"),
        ({"target_categories": ["rich"]}, "unknown_category"),
        ({"roles": [{"name": "主持", "count": 1, "skills": ["juggling"]}]}, "unknown_skill"),
    ]:
        answer = await client.patch(path, json=payload, headers=world.organizer)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, code), payload
    stored = await _stored_event(sessionmaker, created["id"])
    assert (stored.title, stored.organization_id, stored.sequence) == ("我们共成长·集体生日会", None, 0)
    assert await domain_events(sessionmaker, "EventUpdated") == []
    good = await client.patch(
        path,
        json={
            "organization_id": organization.id,
            "reminder_offsets": ["PT45M"],
            "target_categories": [],
        },
        headers=world.organizer,
    )
    body = good.json()
    assert (body["organization_id"], body["reminder_offsets"], body["target_categories"]) == (
        organization.id,
        ["PT45M"],
        [],
    )
