from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.events.models import CustomTheme
from coordinator.events.themes import BUILTIN_THEMES
from tests.stored import count_rows
from tests.world import World


def _theme(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "station_id": world.station.id,
        "code": "lusheng_class",
        "name_zh": "芦笙课堂",
        "name_en": "Lusheng class",
        "duration_minutes": 90,
        "roles": [
            {"name": "芦笙老师", "count": 1, "skills": ["lusheng"], "languages": ["miao"]},
            {"name": "助教", "count": 2},
        ],
        "reminder_offsets": ["PT2H", "P1D"],
        "target_categories": ["left_behind_child", "migrant_child"],
        "color": "#2F9E44",
        **fields,
    }


async def test_builtin_themes_are_listed_with_their_defaults(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/api/v1/themes", headers=world.volunteer)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [t["code"] for t in items] == [
        "birthday_party",
        "festival_visit",
        "party_volunteer_drive",
        "home_visit",
        "heritage",
        "training",
        "supervision",
        "exchange",
        "case_showcase",
    ]
    drive = items[2]
    assert drive["builtin"] is True
    assert drive["station_id"] is None
    assert drive["duration_minutes"] == 180
    assert drive["roles"][0] == {
        "name": "党员志愿者",
        "count": 6,
        "skills": [],
        "languages": [],
        "party_members_only": True,
    }
    assert drive["reminder_offsets"] == ["P1D", "PT2H"]


async def test_station_theme_is_created_and_listed_only_for_its_station(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post("/api/v1/themes", json=_theme(world), headers=world.organizer)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["builtin"] is False
    assert created["station_id"] == world.station.id
    assert created["reminder_offsets"] == ["P1D", "PT2H"]
    assert created["color"] == "#2f9e44"
    assert created["roles"][0]["languages"] == ["miao"]

    ours = await client.get(
        "/api/v1/themes", params={"station_id": world.station.id}, headers=world.organizer
    )
    assert [t["code"] for t in ours.json()["items"]][-1] == "lusheng_class"
    assert len(ours.json()["items"]) == len(BUILTIN_THEMES) + 1
    theirs = await client.get("/api/v1/themes", params={"station_id": world.other.id}, headers=world.admin)
    assert "lusheng_class" not in [t["code"] for t in theirs.json()["items"]]
    hidden = await client.get(
        "/api/v1/themes", params={"station_id": world.other.id}, headers=world.organizer
    )
    assert hidden.status_code == 404


@pytest.mark.parametrize("code", ["birthday_party", "lusheng_class"])
async def test_theme_code_clash_is_409(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession], code: str
) -> None:
    await client.post("/api/v1/themes", json=_theme(world), headers=world.organizer)
    response = await client.post("/api/v1/themes", json=_theme(world, code=code), headers=world.organizer)
    assert response.status_code == 409
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == ("theme_exists", "code")
    assert await count_rows(sessionmaker, CustomTheme) == 1


async def test_the_same_code_may_exist_at_another_station(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.post("/api/v1/themes", json=_theme(world), headers=world.admin)).status_code == 201
    other = _theme(world, station_id=world.other.id)
    assert (await client.post("/api/v1/themes", json=other, headers=world.admin)).status_code == 201


async def test_concurrent_creation_of_one_code_stores_one_theme(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The (station_id, code) unique constraint, not a prior read, keeps the code unique."""
    answers = await asyncio.gather(
        *(client.post("/api/v1/themes", json=_theme(world), headers=world.organizer) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert await count_rows(sessionmaker, CustomTheme) == 1


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        pytest.param(
            {"reminder_offsets": ["P1D", "2 hours"]}, "validation_error", "reminder_offsets", id="offset"
        ),
        pytest.param(
            {"reminder_offsets": ["P1Y"]}, "validation_error", "reminder_offsets", id="offset-years"
        ),
        pytest.param(
            {"target_categories": ["tourists"]}, "unknown_category", "target_categories", id="category"
        ),
        pytest.param(
            {"roles": [{"name": "老师", "count": 1, "skills": ["juggling"]}]},
            "unknown_skill",
            "roles.0.skills",
            id="skill",
        ),
        pytest.param({"roles": []}, "validation_error", "roles", id="no-roles"),
        pytest.param(
            {"roles": [{"name": "老师", "count": -1}]}, "validation_error", "roles.0.count", id="count"
        ),
        pytest.param({"duration_minutes": 0}, "validation_error", "duration_minutes", id="duration"),
        pytest.param({"code": "Lusheng Class"}, "validation_error", "code", id="code-shape"),
        pytest.param({"color": "green"}, "validation_error", "color", id="color"),
    ],
)
async def test_bad_theme_is_refused(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    fields: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = await client.post("/api/v1/themes", json=_theme(world, **fields), headers=world.organizer)
    assert response.status_code == 422, response.text
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (code, field)
    assert await count_rows(sessionmaker, CustomTheme) == 0


async def test_only_staff_of_the_station_create_themes(client: httpx.AsyncClient, world: World) -> None:
    assert (
        await client.post("/api/v1/themes", json=_theme(world), headers=world.volunteer)
    ).status_code == 403
    elsewhere = _theme(world, station_id=world.other.id)
    assert (await client.post("/api/v1/themes", json=elsewhere, headers=world.organizer)).status_code == 404
