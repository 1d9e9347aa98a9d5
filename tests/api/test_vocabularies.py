from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.people.models import VocabularyTerm
from tests.world import World

BAMBOO = {"kind": "skill", "code": "bamboo_weaving", "label_zh": "竹编", "label_en": "Bamboo weaving"}


async def test_builtin_vocabularies_list_languages_skills_and_categories(
    client: httpx.AsyncClient, world: World
) -> None:
    body = (await client.get("/api/v1/vocabularies", headers=world.organizer)).json()
    languages = {t["code"]: t["label_zh"] for t in body["languages"]}
    assert {
        "mandarin": "普通话",
        "miao": "苗语",
        "dong": "侗语",
        "bouyei": "布依语",
        "shui": "水语",
    }.items() <= (languages.items())
    assert languages["sign_language"] == "手语"
    assert {"first_aid", "haircut", "lusheng", "tutoring", "counseling"} <= {
        t["code"] for t in body["skills"]
    }
    assert len(body["resident_categories"]) == 10
    assert all(t["builtin"] for t in body["skills"])


async def test_staff_add_a_custom_term_that_only_their_station_may_use(
    client: httpx.AsyncClient, world: World
) -> None:
    station, headers = world.station, world.organizer
    created = await client.post(
        "/api/v1/vocabularies", json={"station_id": station.id, **BAMBOO}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.json() == {**{k: BAMBOO[k] for k in ("code", "label_zh", "label_en")}, "builtin": False}

    listed = (
        await client.get("/api/v1/vocabularies", params={"station_id": station.id}, headers=headers)
    ).json()
    assert {
        "code": "bamboo_weaving",
        "label_zh": "竹编",
        "label_en": "Bamboo weaving",
        "builtin": False,
    } in listed["skills"]
    person = {"name": "潘", "phone": "13812341234", "skills": ["bamboo_weaving"]}
    ok = await client.post("/api/v1/people", json={"station_id": station.id, **person}, headers=headers)
    assert ok.status_code == 201, ok.text
    elsewhere = await client.post(
        "/api/v1/people", json={"station_id": world.other.id, **person}, headers=world.admin
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"]["code"] == "unknown_skill"


async def test_duplicate_or_builtin_code_is_409_and_volunteers_cannot_add(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = world.organizer
    term = {"station_id": world.station.id, **BAMBOO}
    assert (await client.post("/api/v1/vocabularies", json=term, headers=headers)).status_code == 201
    again = await client.post("/api/v1/vocabularies", json=term, headers=headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "term_exists")
    builtin = await client.post(
        "/api/v1/vocabularies", json={**term, "kind": "language", "code": "miao"}, headers=headers
    )
    assert (builtin.status_code, builtin.json()["error"]["code"]) == (409, "term_exists")
    denied = await client.post(
        "/api/v1/vocabularies", json={**term, "code": "other"}, headers=world.volunteer
    )
    assert denied.status_code == 403
    hidden = await client.post(
        "/api/v1/vocabularies", json={**term, "station_id": world.other.id}, headers=headers
    )
    assert hidden.status_code == 404
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(VocabularyTerm)) == 1
