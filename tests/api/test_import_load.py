"""Imports the server must survive: files built to exhaust it, and large files while others work."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.events.models import Event
from coordinator.people import importing
from coordinator.people.models import Person
from coordinator.people.tabular import read_table
from tests.api.event_making import event_body
from tests.sheets import inline_row, sheet_xml, xlsx, xlsx_with
from tests.stored import count_rows
from tests.world import World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PEOPLE = xlsx(("姓名", "手机"), *((f"人{i}", f"138{i:08d}") for i in range(5)))


async def _upload(client: httpx.AsyncClient, world: World, content: bytes) -> httpx.Response:
    return await client.post(
        "/api/v1/people/import",
        data={"station_id": str(world.station.id)},
        files={"file": ("名单.xlsx", content, XLSX)},
        headers=world.head,
    )


async def test_a_file_claiming_ten_million_rows_is_refused_with_the_reason(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    header = inline_row(1, ("A", "姓名"), ("B", "手机"))
    far = inline_row(10_000_000, ("A", "x"))
    content = xlsx_with({"xl/worksheets/sheet1.xml": sheet_xml(header + far, dimension="A1:XFD10000000")})
    response = await _upload(client, world, content)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("too_many_rows", "file")
    assert "空行也计算在内" in error["message"]
    assert "blank rows count too" in error["message_en"]
    assert await count_rows(sessionmaker, Person) == 0


async def test_other_requests_are_answered_while_a_file_is_parsed(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing runs in a worker thread: held there, it holds up no other request."""
    parsing, release = threading.Event(), threading.Event()

    def held_read(content: bytes, *, max_rows: int) -> Any:
        parsing.set()
        release.wait(timeout=10)
        return read_table(content, max_rows=max_rows)

    monkeypatch.setattr("coordinator.people.importing.read_table", held_read)
    upload = asyncio.create_task(_upload(client, world, PEOPLE))
    await asyncio.to_thread(parsing.wait, 10)
    other = await client.post("/api/v1/events", json=event_body(world), headers=world.organizer)
    assert other.status_code == 201, other.text
    assert not upload.done()
    release.set()
    response = await upload
    assert response.json() == {"created": 5, "updated": 0, "errors": []}


async def test_other_writes_go_through_between_the_chunks_of_an_import(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each chunk of rows is its own short transaction: a request waits for one chunk at most
    (on SQLite a transaction over the whole file held every other write until it ended)."""
    app.state.settings = app.state.settings.model_copy(update={"import_chunk_rows": 2})
    first_written, go_on = asyncio.Event(), asyncio.Event()
    store_chunk: Callable[..., Any] = importing._store_chunk

    async def pausing_store_chunk(*args: Any, **kwargs: Any) -> Any:
        written = await store_chunk(*args, **kwargs)
        first_written.set()
        await go_on.wait()
        return written

    monkeypatch.setattr(importing, "_store_chunk", pausing_store_chunk)
    upload = asyncio.create_task(_upload(client, world, PEOPLE))
    await asyncio.wait_for(first_written.wait(), timeout=30)
    event = await client.post("/api/v1/events", json=event_body(world), headers=world.organizer)
    assert event.status_code == 201, event.text
    assert await count_rows(sessionmaker, Person) == 2  # the first chunk, committed
    go_on.set()
    assert (await upload).json() == {"created": 5, "updated": 0, "errors": []}
    assert (await count_rows(sessionmaker, Person), await count_rows(sessionmaker, Event)) == (5, 1)
