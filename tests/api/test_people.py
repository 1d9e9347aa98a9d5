from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.people.models import Person, PersonTerm
from coordinator.stations.models import Station
from tests.factories import auth_headers, create_person, create_volunteer_login
from tests.stored import count_rows
from tests.world import World


def _person(station: Station, **fields: Any) -> dict[str, Any]:
    return {"station_id": station.id, "name": "杨秀英", "phone": "13812341234", **fields}


async def test_staff_creates_person_with_normalized_phone_terms_and_defaults(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post(
        "/api/v1/people",
        json=_person(
            world.station,
            phone="+86 138-1234-1234",
            is_party_member=True,
            party_branch="营盘坡社区党支部",
            skills=["lusheng", "first_aid", "lusheng"],
            languages=["miao", "mandarin"],
            availability=[{"weekday": 5, "start": "09:00", "end": "12:00"}],
            max_events_per_month=4,
        ),
        headers=world.organizer,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == "+8613812341234"
    assert body["skills"] == ["first_aid", "lusheng"]
    assert body["languages"] == ["mandarin", "miao"]
    assert body["channel_order"] == ["wechat", "sms", "email"]
    assert (body["consent_sms"], body["consent_wechat"], body["consent_email"]) == (True, False, False)
    assert (body["quiet_hours_start"], body["quiet_hours_end"]) == ("22:00", "08:00")
    assert body["created_at"].endswith("+08:00")  # shown in the station's zone
    async with sessionmaker() as session:
        person = await session.scalar(select(Person))
        assert person is not None
        assert person.calendar_token_version == 0
        assert person.availability == [{"weekday": 5, "start": "09:00", "end": "12:00"}]
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "PersonCreated"))
        assert event is not None
        assert event.payload == {"person_id": person.id, "station_id": world.station.id}


@pytest.mark.parametrize(
    "phone", ["12345", "0855-8221234", "+85291234567", "+1 650 253 0000", "abc", "1381234123", "138123412345"]
)
async def test_invalid_phone_is_422_invalid_phone_and_stores_nothing(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession], phone: str
) -> None:
    response = await client.post(
        "/api/v1/people", json=_person(world.station, phone=phone), headers=world.organizer
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_phone", "phone")
    assert "手机号" in error["message"]
    assert "phone" in error["message_en"]
    assert await count_rows(sessionmaker, Person) == 0


async def test_duplicate_phone_in_station_is_409_but_allowed_elsewhere(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await client.post("/api/v1/people", json=_person(world.station), headers=world.organizer)
    assert first.status_code == 201
    again = await client.post(
        "/api/v1/people", json=_person(world.station, phone="+86 138 1234 1234"), headers=world.organizer
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "phone_taken"
    elsewhere = await client.post("/api/v1/people", json=_person(world.other), headers=world.admin)
    assert elsewhere.status_code == 201
    assert await count_rows(sessionmaker, Person) == 2
    assert await count_rows(sessionmaker, OutboxEvent) == 2  # the rejected request emitted nothing


async def test_concurrent_creates_with_one_phone_leave_exactly_one_person(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/people", json=_person(world.station, name=f"重复{i}"), headers=world.organizer
            )
            for i in range(6)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"phone_taken"}
    assert await count_rows(sessionmaker, Person) == 1


@pytest.mark.parametrize(
    ("field", "codes", "error_code"),
    [("skills", ["first_aid", "juggling"], "unknown_skill"), ("languages", ["klingon"], "unknown_language")],
)
async def test_unknown_term_is_422_naming_field_and_allowed_codes(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    field: str,
    codes: list[str],
    error_code: str,
) -> None:
    response = await client.post(
        "/api/v1/people", json=_person(world.station, **{field: codes}), headers=world.organizer
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (error_code, field)
    assert codes[-1] in error["message_en"]
    allowed = error["details"]["allowed"]
    assert (
        ("first_aid" in allowed) if field == "skills" else ("miao" in allowed and "sign_language" in allowed)
    )
    assert await count_rows(sessionmaker, Person) == 0


async def test_several_rule_violations_are_all_listed(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/api/v1/people",
        json=_person(world.station, phone="123", skills=["juggling"]),
        headers=world.organizer,
    )
    assert response.status_code == 422
    problems = response.json()["error"]["details"]["problems"]
    assert [p["code"] for p in problems] == ["invalid_phone", "unknown_skill"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"availability": [{"weekday": 1, "start": "12:00", "end": "09:00"}]}, "availability.0"),
        ({"availability": [{"weekday": 7, "start": "09:00", "end": "12:00"}]}, "availability.0.weekday"),
        ({"quiet_hours_start": "25:00"}, "quiet_hours_start"),
        ({"channel_order": ["sms", "sms"]}, "channel_order"),
        ({"channel_order": ["fax"]}, "channel_order.0"),
        ({"email": "not-an-email"}, "email"),
        ({"max_events_per_month": -1}, "max_events_per_month"),
    ],
)
async def test_invalid_preferences_are_422_with_field(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    fields: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(
        "/api/v1/people", json=_person(world.station, **fields), headers=world.organizer
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert await count_rows(sessionmaker, Person) == 0


async def test_list_filters_by_skill_language_party_social_worker_and_name(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        piper = await create_person(
            session,
            clock,
            world.station,
            name="潘芦笙",
            skills=["lusheng"],
            languages=["miao"],
            is_party_member=True,
        )
        medic = await create_person(
            session, clock, world.station, name="吴医生", skills=["medical"], is_social_worker=True
        )
        await create_person(session, clock, world.other, name="潘外站", skills=["lusheng"])

    async def ids(**params: Any) -> list[int]:
        response = await client.get("/api/v1/people", params=params, headers=world.organizer)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert await ids() == [piper.id, medic.id]
    assert await ids(skill="lusheng") == [piper.id]
    assert await ids(language="miao") == [piper.id]
    assert await ids(party_member="true") == [piper.id]
    assert await ids(party_member="false") == [medic.id]
    assert await ids(social_worker="true") == [medic.id]
    assert await ids(q="潘") == [piper.id]
    assert await ids(station_id=world.station.id, limit=1) == [piper.id]
    hidden = await client.get(
        "/api/v1/people", params={"station_id": world.other.id}, headers=world.organizer
    )
    assert hidden.status_code == 404


async def test_patch_changes_sent_fields_and_emits_changed_names_only(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        person = await create_person(
            session, clock, world.station, skills=["cooking"], languages=["mandarin"]
        )
    response = await client.patch(
        f"/api/v1/people/{person.id}",
        json={"skills": ["cooking", "driving"], "phone": "139 0000 1111", "consent_wechat": True},
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skills"] == ["cooking", "driving"]
    assert body["languages"] == ["mandarin"]
    assert body["phone"] == "+8613900001111"
    async with sessionmaker() as session:
        terms = await session.scalars(select(PersonTerm.code).where(PersonTerm.person_id == person.id))
        assert sorted(terms) == ["cooking", "driving", "mandarin"]
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "PersonUpdated"))
        assert event is not None
        assert event.payload["changed"] == ["consent_wechat", "phone", "skills"]
        assert "+8613900001111" not in str(event.payload)


async def test_patch_to_a_taken_phone_is_409_and_changes_nothing(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        first = await create_person(session, clock, world.station)
        second = await create_person(session, clock, world.station, name="原名")
    response = await client.patch(
        f"/api/v1/people/{second.id}", json={"phone": first.phone, "name": "新名"}, headers=world.organizer
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "phone_taken"
    async with sessionmaker() as session:
        stored = await session.get(Person, second.id)
        assert stored is not None
        assert (stored.name, stored.phone) == ("原名", second.phone)


async def test_patch_refuses_null_for_required_fields(client: httpx.AsyncClient, world: World) -> None:
    created = await client.post("/api/v1/people", json=_person(world.station), headers=world.organizer)
    response = await client.patch(
        f"/api/v1/people/{created.json()['id']}", json={"name": None}, headers=world.organizer
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "name"


async def test_volunteer_reads_only_their_own_person(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        me = await create_person(session, clock, world.station)
        neighbour = await create_person(session, clock, world.station)
        volunteer = await create_volunteer_login(session, clock, me)
    headers = auth_headers(app, volunteer)
    assert (await client.get(f"/api/v1/people/{me.id}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/people/{neighbour.id}", headers=headers)).status_code == 404
    listing = await client.get("/api/v1/people", headers=headers)
    assert listing.status_code == 403
    assert listing.json()["error"]["code"] == "role_forbidden"
    assert (
        await client.patch(f"/api/v1/people/{me.id}", json={"name": "x"}, headers=headers)
    ).status_code == 403
    created = await client.post("/api/v1/people", json=_person(world.station), headers=headers)
    assert created.status_code == 403
    assert await count_rows(sessionmaker, Person) == 2


async def test_people_of_another_station_answer_404(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        stranger = await create_person(session, clock, world.other, name="外站")
    assert (await client.get(f"/api/v1/people/{stranger.id}", headers=world.organizer)).status_code == 404
    patched = await client.patch(
        f"/api/v1/people/{stranger.id}", json={"name": "改"}, headers=world.organizer
    )
    assert patched.status_code == 404
    assert patched.json()["error"]["code"] == "person_not_found"
    created = await client.post("/api/v1/people", json=_person(world.other), headers=world.organizer)
    assert created.status_code == 404
    assert created.json()["error"]["code"] == "station_not_found"
    assert await count_rows(sessionmaker, Person) == 1
