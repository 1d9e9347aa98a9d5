"""Control characters in text: refused at input with a 422 naming the field (line breaks and tabs
kept where text may run over lines), and filters carrying them refused before any query."""

from __future__ import annotations

import httpx
import pytest

from coordinator.people.models import Person
from tests.world import World, error_code

API = "/api/v1"
ODD = [
    pytest.param("\x00", id="nul"),
    pytest.param("\x07", id="bell"),
    pytest.param("\x1b", id="escape"),
    pytest.param("\x85", id="c1-next-line"),
    pytest.param("\r\n", id="crlf"),
    pytest.param("\t", id="tab"),
]


@pytest.mark.parametrize("odd", ODD)
async def test_a_name_with_a_control_character_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, world: World, odd: str
) -> None:
    person = await world.person(name="杨秀英")
    body = {"station_id": world.station.id, "name": f"张{odd}三", "phone": "13812345678"}
    created = await client.post(f"{API}/people", json=body, headers=world.organizer)
    assert (created.status_code, error_code(created)) == (422, "validation_error")
    error = created.json()["error"]
    assert error["field"] == "name"
    assert "控制字符" in error["message"]
    assert "control characters" in error["message_en"]
    changed = await client.patch(
        f"{API}/people/{person.id}", json={"name": f"李{odd}"}, headers=world.organizer
    )
    assert (changed.status_code, changed.json()["error"]["field"]) == (422, "name")
    assert await world.count(Person) == 1
    stored = await client.get(f"{API}/people/{person.id}", headers=world.organizer)
    assert stored.json()["name"] == "杨秀英"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "暖冬行动\r\nDTSTART:19700101T000000"),
        ("location", "村委会\x00二楼"),
        ("description", "带上\x07水杯"),
    ],
)
async def test_event_text_with_control_characters_is_refused(
    client: httpx.AsyncClient, world: World, field: str, value: str
) -> None:
    event = await world.event()
    response = await client.patch(f"{API}/events/{event.id}", json={field: value}, headers=world.organizer)
    assert (response.status_code, response.json()["error"]["field"]) == (422, field)
    kept = await client.get(f"{API}/events/{event.id}", headers=world.organizer)
    assert kept.json()["title"] == event.title
    assert kept.json()["location"] == event.location


async def test_a_description_keeps_its_lines_and_tabs(client: httpx.AsyncClient, world: World) -> None:
    event = await world.event()
    text = "集合：村委会\r\n带上：\t水杯\r雨伞"
    response = await client.patch(
        f"{API}/events/{event.id}", json={"description": text}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "集合：村委会\n带上：\t水杯\n雨伞"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/people", {"q": "杨\x00"}, "q"),
        ("/residents", {"language": "\x00"}, "language"),
        ("/events", {"theme": "home\x00visit"}, "theme"),
        ("/stats/participation", {"group_by": "month\x00"}, "group_by.0"),
    ],
)
async def test_a_filter_with_a_control_character_is_refused(
    client: httpx.AsyncClient, world: World, path: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(API + path, params=params, headers=world.head)
    assert (response.status_code, error_code(response)) == (422, "validation_error")
    assert response.json()["error"]["field"] == field
