from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.people.models import Person, Resident
from coordinator.stations.models import Station
from tests.factories import create_person, create_resident
from tests.sheets import csv_bytes, id_number, with_wrong_check_digit, xlsx
from tests.stored import count_rows
from tests.world import World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PEOPLE_ZH = ("姓名", "手机号", "是否党员", "党支部", "社工", "技能", "语言", "邮箱")
PEOPLE_EN = ("name", "phone", "party_member", "party_branch", "social_worker", "skills", "languages", "email")
RESIDENTS_ZH = (
    "姓名",
    "人员类别",
    "出生日期",
    "农历",
    "性别",
    "语种",
    "户主",
    "地址",
    "联系电话",
    "身份证号",
)


async def _upload(
    client: httpx.AsyncClient,
    world: World,
    kind: str,
    content: bytes,
    *,
    partial: bool = False,
    filename: str = "名单.xlsx",
    station: Station | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Upload as the station head of ``world.station`` unless ``station``/``headers`` say otherwise."""
    return await client.post(
        f"/api/v1/{kind}/import",
        data={"station_id": str((station or world.station).id), "partial": str(partial).lower()},
        files={"file": (filename, content, XLSX)},
        headers=headers or world.head,
    )


async def _people(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Person]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(Person).options(selectinload(Person.terms)).order_by(Person.id))
        return list(rows)


async def test_people_xlsx_with_chinese_headers_is_imported(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    content = xlsx(
        PEOPLE_ZH,
        (
            "潘小芳",
            13812341234,
            "是",
            "营盘坡社区党支部",
            "否",
            "急救、芦笙",
            "苗语，普通话",
            "fang@example.com",
        ),
        ("吴明", "+86 139-0000-1111", "否", None, "是", "photography/理发", "mandarin", None),
    )
    response = await _upload(client, world, "people", content)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0, "errors": []}
    fang, ming = await _people(sessionmaker)
    assert (fang.name, fang.phone, fang.is_party_member, fang.party_branch) == (
        "潘小芳",
        "+8613812341234",
        True,
        "营盘坡社区党支部",
    )
    assert fang.codes("skill") == ["first_aid", "lusheng"]
    assert fang.codes("language") == ["mandarin", "miao"]
    assert (ming.is_social_worker, ming.codes("skill")) == (True, ["haircut", "photography"])
    assert await count_rows(sessionmaker, OutboxEvent) == 2


async def test_people_xlsx_with_english_headers_updates_known_phones(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    async with sessionmaker() as session, session.begin():
        known = await create_person(
            session,
            clock,
            world.station,
            name="旧名",
            phone="+8613812341234",
            skills=["cooking"],
            email="a@b.cn",
        )
    content = xlsx(
        PEOPLE_EN,
        ("Yang Ying", "138 1234 1234", "yes", "", "no", "first_aid", "", None),
        ("Long Fei", "13900001111", "0", "", "1", "", "dong", ""),
    )
    response = await _upload(client, world, "people", content)
    assert response.json() == {"created": 1, "updated": 1, "errors": []}
    updated, added = await _people(sessionmaker)
    assert updated.id == known.id
    assert (updated.name, updated.is_party_member, updated.codes("skill")) == (
        "Yang Ying",
        True,
        ["first_aid"],
    )
    assert updated.email == "a@b.cn"  # an empty cell changes nothing
    assert (added.name, added.codes("language"), added.is_social_worker) == ("Long Fei", ["dong"], True)
    async with sessionmaker() as session:
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "PersonUpdated"))
        assert event is not None
        assert event.payload["changed"] == ["is_party_member", "name", "skills"]


def _bad_people_file() -> bytes:
    return xlsx(
        PEOPLE_ZH,
        ("好人", "13812341234", "是", "", "", "急救", "", ""),  # row 2: fine
        ("坏号码", "0855-8221234", "", "", "", "", "", ""),  # row 3
        ("怪技能", "13900001111", "", "", "", "急救、杂耍", "", ""),  # row 4
        ("重复", "+8613812341234", "", "", "", "", "", ""),  # row 5: same phone as row 2
        ("两处错", "12", "也许", "", "", "", "克林贡语", ""),  # row 6
        ("好人二", "13700002222", "", "", "", "", "侗语", ""),  # row 7: fine
    )


async def test_bad_people_rows_are_all_reported_and_nothing_is_stored(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await _upload(client, world, "people", _bad_people_file())
    assert response.status_code == 422
    body = response.json()
    assert (body["created"], body["updated"]) == (0, 0)
    found = [(e["row"], e["field"], e["code"]) for e in body["errors"]]
    assert found == [
        (3, "phone", "invalid_phone"),
        (4, "skills", "unknown_skill"),
        (5, "phone", "duplicate_in_file"),
        (6, "is_party_member", "validation_error"),
        (6, "phone", "invalid_phone"),
        (6, "languages", "unknown_language"),
    ]
    assert all(e["message"] and e["message_en"] for e in body["errors"])
    assert await count_rows(sessionmaker, Person) == 0
    assert await count_rows(sessionmaker, OutboxEvent) == 0


async def test_partial_import_stores_the_good_rows(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await _upload(client, world, "people", _bad_people_file(), partial=True)
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], len(body["errors"])) == (2, 0, 6)
    assert [p.name for p in await _people(sessionmaker)] == ["好人", "好人二"]


async def test_residents_xlsx_with_labels_is_imported_and_id_numbers_update(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    known_id = id_number(birth="19400101")
    async with sessionmaker() as session, session.begin():
        known = await create_resident(
            session, clock, world.station, name="旧名", id_number=known_id, notes="保留"
        )
    content = xlsx(
        RESIDENTS_ZH,
        (
            "吴老奶",
            "空巢老人、低保",
            "1948年8月15日",
            "是",
            "女",
            "苗语",
            "吴家",
            "营盘坡3组",
            "13812341234",
            id_number(),
        ),
        ("龙小妹", "留守儿童", "2015-06-01", "否", "女", "普通话", "龙家", "", "", None),
        ("杨老爹", "特困, disabled", "", "", "男", "", "", "", "", known_id.lower()),
    )
    response = await _upload(client, world, "residents", content)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 1, "errors": []}
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Resident).options(selectinload(Resident.category_rows)).order_by(Resident.id)
        )
        updated, granny, child = rows.all()
    assert updated.id == known.id
    assert (updated.name, updated.categories, updated.gender, updated.notes) == (
        "杨老爹",
        ["disabled", "extreme_poverty"],
        "male",
        "保留",
    )
    assert granny.categories == ["empty_nest_elderly", "low_income"]
    assert (granny.birth_year, granny.birth_month, granny.birth_day, granny.birthday_is_lunar) == (
        1948,
        8,
        15,
        True,
    )
    assert (granny.language, granny.phone, granny.id_number) == ("miao", "+8613812341234", id_number())
    assert (child.birth_year, child.birthday_is_lunar, child.language) == (2015, False, "mandarin")


async def test_bad_resident_rows_are_reported_and_nothing_is_stored(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    good_id = id_number()
    content = xlsx(
        RESIDENTS_ZH,
        ("好", "低保", "", "", "", "", "", "", "", good_id),
        ("类别错", "贫困户", "", "", "", "", "", "", "", ""),
        ("校验位错", "残疾人", "", "", "", "", "", "", "", with_wrong_check_digit(id_number(sequence="456"))),
        ("重复身份证", "残疾人", "", "", "", "", "", "", "", good_id),
        ("生日错", "残疾人", "2月30日", "否", "", "", "", "", "", ""),
        ("", "残疾人", "", "", "", "", "", "", "", ""),
    )
    response = await _upload(client, world, "residents", content)
    assert response.status_code == 422
    found = [(e["row"], e["field"], e["code"]) for e in response.json()["errors"]]
    assert found == [
        (3, "categories", "unknown_category"),
        (4, "id_number", "invalid_id_number"),
        (5, "id_number", "duplicate_in_file"),
        (6, "birthday", "invalid_birthday"),
        (7, "name", "missing_value"),
    ]
    assert await count_rows(sessionmaker, Resident) == 0


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8", "utf-16"])
async def test_csv_in_gbk_or_utf8_is_imported(
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    encoding: str,
) -> None:
    content = csv_bytes(
        ("姓名", "类别", "生日", "农历", "语种"),
        ("欧阿婆", "留守老人；空巢老人", "9-9", "是", "侗语"),
        encoding=encoding,
    )
    response = await _upload(client, world, "residents", content, filename="台账.csv")
    assert response.json() == {"created": 1, "updated": 0, "errors": []}
    async with sessionmaker() as session:
        resident = await session.scalar(select(Resident).options(selectinload(Resident.category_rows)))
        assert resident is not None
        assert (resident.name, resident.language) == ("欧阿婆", "dong")
        assert resident.categories == ["empty_nest_elderly", "left_behind_elderly"]
        assert (resident.birth_month, resident.birth_day, resident.birthday_is_lunar) == (9, 9, True)


async def test_people_csv_in_gbk_is_imported(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    content = csv_bytes(("姓名", "手机", "技能"), ("石芦笙", "13812341234", "芦笙、歌舞"), encoding="gbk")
    response = await _upload(client, world, "people", content, filename="名单.csv")
    assert response.json() == {"created": 1, "updated": 0, "errors": []}
    (person,) = await _people(sessionmaker)
    assert person.codes("skill") == ["lusheng", "singing_dancing"]


async def test_oversized_file_is_413_and_stores_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"import_max_bytes": 100})
    content = csv_bytes(("姓名", "手机"), *((f"人{i}", f"138{i:08d}") for i in range(20)))
    response = await _upload(client, world, "people", content, filename="big.csv")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert await count_rows(sessionmaker, Person) == 0


async def test_too_many_rows_is_422(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"import_max_rows": 3})
    content = xlsx(("姓名", "手机"), *((f"人{i}", f"138{i:08d}") for i in range(4)))
    response = await _upload(client, world, "people", content)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_rows"
    assert await count_rows(sessionmaker, Person) == 0


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel",
        b"PK\x03\x04not really a workbook",
        b"",
        b"\x80\x81\xfe\xff\xfa",
    ],
    ids=["png", "xls", "broken-zip", "empty", "undecodable"],
)
async def test_unreadable_file_is_422(client: httpx.AsyncClient, world: World, content: bytes) -> None:
    response = await _upload(client, world, "people", content)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unreadable_file"


async def test_missing_required_column_is_422_naming_it(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await _upload(client, world, "people", xlsx(("姓名", "技能"), ("张三", "急救")))
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("missing_column", "phone")
    assert "手机号" in error["message"]
    residents = await _upload(client, world, "residents", xlsx(("姓名",), ("张三",)))
    assert residents.json()["error"]["field"] == "categories"
    assert await count_rows(sessionmaker, Person) == 0


async def test_import_is_staff_only_and_station_scoped(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    content = xlsx(("姓名", "手机"), ("张三", "13812341234"))
    hidden = await _upload(client, world, "people", content, station=world.other, headers=world.organizer)
    assert hidden.status_code == 404
    denied = await _upload(client, world, "people", content, headers=world.volunteer)
    assert denied.status_code == 403
    assert await count_rows(sessionmaker, Person) == 0
