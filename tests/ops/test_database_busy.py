"""A busy SQLite database answers 503 with Retry-After, never a 500 "database is locked"."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from coordinator.settings import Settings
from tests.api.event_making import event_body
from tests.world import World


@pytest.fixture
def settings(settings: Settings) -> Settings:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has row locks: no request waits for one writer's lock")
    return settings.model_copy(update={"sqlite_busy_timeout_seconds": 0.2})


async def test_a_request_that_cannot_get_the_write_lock_is_told_to_retry(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    path = settings.database_url.split(":///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than the busy timeout
    try:
        busy = await client.post("/api/v1/events", json=event_body(world), headers=world.organizer)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "2"
    error = busy.json()["error"]
    assert (error["code"], error["message"], error["message_en"]) == (
        "database_busy",
        "服务器繁忙，请稍后重试",
        "The server is busy; try again in a moment",
    )
    again = await client.post("/api/v1/events", json=event_body(world), headers=world.organizer)
    assert again.status_code == 201, again.text
