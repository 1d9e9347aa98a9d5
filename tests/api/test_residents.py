from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.people.models import Resident, ResidentCategoryRow
from coordinator.stations.models import Station
from tests.factories import create_resident
from tests.sheets import id_number, with_wrong_check_digit
from tests.stored import count_rows
from tests.world import World

ID_NUMBER = id_number()


def _resident(station: Station, **fields: Any) -> dict[str, Any]:
    return {"station_id": station.id, "name": "吴老奶", "categories": ["empty_nest_elderly"], **fields}


async def test_head_creates_resident_and_sees_personal_data(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post(
        "/api/v1/residents",
        json=_resident(
            world.station,
            categories=["low_income", "empty_nest_elderly", "low_income"],
            birthday="1948-08-15",
            birthday_is_lunar=True,
            language="miao",
            household="户主：吴老奶",
            phone="13812341234",
            id_number=ID_NUMBER.lower(),
        ),
        headers=world.head,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["categories"] == ["empty_nest_elderly", "low_income"]
    assert (body["birthday"], body["birthday_is_lunar"]) == ("1948-08-15", True)
    assert (body["phone"], body["id_number"], body["personal_data_masked"]) == (
        "+8613812341234",
        ID_NUMBER,
        False,
    )
    async with sessionmaker() as session:
        resident = await session.scalar(select(Resident))
        assert resident is not None
        assert (resident.birth_year, resident.birth_month, resident.birth_day) == (1948, 8, 15)
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "ResidentCreated"))
        assert event is not None
        assert event.payload == {"resident_id": resident.id, "station_id": world.station.id}


async def test_personal_data_is_masked_for_organizers_and_shown_to_heads_and_admins(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        resident = await create_resident(
            session, clock, world.station, phone="+8613812341234", id_number=ID_NUMBER
        )
    masked_phone, masked_id = "138****1234", f"**************{ID_NUMBER[-4:]}"
    for headers, phone, number in (
        (world.organizer, masked_phone, masked_id),
        (world.head, "+8613812341234", ID_NUMBER),
        (world.admin, "+8613812341234", ID_NUMBER),
    ):
        one = (await client.get(f"/api/v1/residents/{resident.id}", headers=headers)).json()
        listed = (await client.get("/api/v1/residents", headers=headers)).json()["items"][0]
        for body in (one, listed):
            assert (body["phone"], body["id_number"]) == (phone, number)
            assert body["personal_data_masked"] is (phone == masked_phone)
    patched = await client.patch(
        f"/api/v1/residents/{resident.id}", json={"notes": "行动不便"}, headers=world.organizer
    )
    assert patched.json()["id_number"] == masked_id


async def test_masked_fields_together_never_rebuild_the_id_number(
    client: httpx.AsyncClient, world: World
) -> None:
    """The ID number's middle is the birth date: a masked view shows the age, not the birthday,
    and only the last four characters of the number."""
    solar = id_number(birth="19480815", sequence="501")
    lunar = id_number(birth="19520304", sequence="502")
    ids = []
    for number, birthday, is_lunar in ((solar, "1948-08-15", False), (lunar, "1952-01-20", True)):
        created = await client.post(
            "/api/v1/residents",
            json=_resident(world.station, birthday=birthday, birthday_is_lunar=is_lunar, id_number=number),
            headers=world.head,
        )
        assert created.status_code == 201, created.text
        assert created.json()["birthday"] == birthday  # the head sees everything
        ids.append(created.json()["id"])
    answers = [
        (await client.get("/api/v1/residents", headers=world.organizer)).json()["items"],
        [(await client.get(f"/api/v1/residents/{i}", headers=world.organizer)).json() for i in ids],
        [
            (
                await client.patch(f"/api/v1/residents/{i}", json={"notes": "独居"}, headers=world.organizer)
            ).json()
            for i in ids
        ],
    ]
    for bodies in answers:
        # 29 Nov 2026: 78 since 15 Aug; born on lunar 1-20 of 1952, 74 since lunar 1-20 of 2026.
        assert [(b["birthday"], b["age"], b["id_number"]) for b in bodies] == [
            (None, 78, "*" * 14 + solar[-4:]),
            (None, 74, "*" * 14 + lunar[-4:]),
        ]
        text = str(bodies)
        assert not any(part in text for part in ("1948", "0815", "1952", "0304", solar[:6]))
    celebrants = await client.get(
        f"/api/v1/stations/{world.station.id}/celebrants",
        params={"month": "2026-08", "category": "empty_nest_elderly"},
        headers=world.organizer,
    )
    (celebrant,) = celebrants.json()["items"]
    assert (celebrant["celebrated_on"], celebrant["turning"]) == (None, 78)  # no day beside the age
    assert celebrant["resident"]["id_number"] == "*" * 14 + solar[-4:]


async def test_residents_are_staff_only_and_station_scoped(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        resident = await create_resident(session, clock, world.station)
    assert (await client.get(f"/api/v1/residents/{resident.id}", headers=world.other_head)).status_code == 404
    listed = await client.get("/api/v1/residents", headers=world.other_head)
    assert listed.json()["items"] == []
    denied = await client.get(f"/api/v1/residents/{resident.id}", headers=world.volunteer)
    assert denied.status_code == 403
    assert (await client.get("/api/v1/residents", headers=world.volunteer)).status_code == 403
    created = await client.post("/api/v1/residents", json=_resident(world.station), headers=world.other_head)
    assert created.status_code == 404
    assert await count_rows(sessionmaker, Resident) == 1


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"id_number": with_wrong_check_digit(ID_NUMBER)}, "invalid_id_number", "id_number"),
        ({"id_number": "52260119481315123X"}, "invalid_id_number", "id_number"),  # month 13
        ({"id_number": "5226011948081512"}, "invalid_id_number", "id_number"),
        ({"categories": ["poor"]}, "unknown_category", "categories"),
        ({"categories": []}, "categories_required", "categories"),
        ({"language": "klingon"}, "unknown_language", "language"),
        ({"phone": "0855-8221234"}, "invalid_phone", "phone"),
        ({"birthday": "02-30"}, "invalid_birthday", "birthday"),
        ({"birthday": "2026-02-30", "birthday_is_lunar": True}, "invalid_birthday", "birthday"),
        ({"birthday": "03-01", "birthday_leap_month": True}, "invalid_birthday", "birthday"),
        ({"birthday": "15/08/1948"}, "invalid_birthday", "birthday"),
    ],
)
async def test_invalid_resident_is_422_with_code_and_stores_nothing(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    fields: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = await client.post(
        "/api/v1/residents", json=_resident(world.station, **fields), headers=world.head
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert error["message_en"]
    assert await count_rows(sessionmaker, Resident) == 0
    assert await count_rows(sessionmaker, OutboxEvent) == 0


@pytest.mark.parametrize(
    ("fields", "birthday"),
    [
        ({"birthday": "8-15"}, "08-15"),
        ({"birthday": "02-30", "birthday_is_lunar": True}, "02-30"),  # kept on the 29th in short years
        ({"birthday": "02-29"}, "02-29"),
        ({"birthday": "2025-06-10", "birthday_is_lunar": True, "birthday_leap_month": True}, "2025-06-10"),
    ],
)
async def test_birthday_without_year_and_lunar_forms_are_accepted(
    client: httpx.AsyncClient, world: World, fields: dict[str, Any], birthday: str
) -> None:
    response = await client.post(
        "/api/v1/residents", json=_resident(world.station, **fields), headers=world.head
    )
    assert response.status_code == 201, response.text
    assert response.json()["birthday"] == birthday


async def test_duplicate_id_number_in_station_is_409(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await client.post(
        "/api/v1/residents", json=_resident(world.station, id_number=ID_NUMBER), headers=world.head
    )
    assert first.status_code == 201
    again = await client.post(
        "/api/v1/residents",
        json=_resident(world.station, name="另一人", id_number=ID_NUMBER),
        headers=world.head,
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "id_number_taken"
    assert await count_rows(sessionmaker, Resident) == 1


async def test_list_filters_by_category_language_and_name(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        child = await create_resident(
            session, clock, world.station, name="龙小妹", categories=["left_behind_child"], language="miao"
        )
        elder = await create_resident(
            session, clock, world.station, name="杨老爹", categories=["left_behind_elderly", "disabled"]
        )

    async def ids(**params: Any) -> list[int]:
        response = await client.get("/api/v1/residents", params=params, headers=world.organizer)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids() == [child.id, elder.id]
    assert await ids(category="disabled") == [elder.id]
    assert await ids(language="miao") == [child.id]
    assert await ids(q="老爹") == [elder.id]
    assert await ids(station_id=world.station.id, category="left_behind_child") == [child.id]


async def test_patch_replaces_categories_rechecks_birthday_and_emits_field_names(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        resident = await create_resident(
            session,
            clock,
            world.station,
            categories=["low_income"],
            birth_month=2,
            birth_day=30,
            birthday_is_lunar=True,
            id_number=ID_NUMBER,
        )
    # A lunar 2/30 cannot become a solar birthday: there is no February 30.
    solar = await client.patch(
        f"/api/v1/residents/{resident.id}", json={"birthday_is_lunar": False}, headers=world.head
    )
    assert solar.status_code == 422
    assert solar.json()["error"]["code"] == "invalid_birthday"

    response = await client.patch(
        f"/api/v1/residents/{resident.id}",
        json={"categories": ["low_income", "disabled"], "birthday": "1950-03-08", "birthday_is_lunar": False},
        headers=world.head,
    )
    assert response.status_code == 200, response.text
    assert response.json()["categories"] == ["disabled", "low_income"]
    assert response.json()["birthday"] == "1950-03-08"
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(ResidentCategoryRow.category).order_by(ResidentCategoryRow.category)
        )
        assert list(rows) == ["disabled", "low_income"]
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "ResidentUpdated"))
        assert event is not None
        changed = ["birth_day", "birth_month", "birth_year", "birthday_is_lunar", "categories"]
        assert event.payload["changed"] == changed
        assert ID_NUMBER not in str(event.payload)


async def test_patch_cannot_empty_categories(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        resident = await create_resident(session, clock, world.station, categories=["disabled"])
    response = await client.patch(
        f"/api/v1/residents/{resident.id}", json={"categories": []}, headers=world.head
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "categories_required"
    async with sessionmaker() as session:
        assert list(await session.scalars(select(ResidentCategoryRow.category))) == ["disabled"]
