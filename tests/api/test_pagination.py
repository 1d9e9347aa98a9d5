"""Cursors a client makes up or edits: refused with 422 ``invalid_cursor``, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from coordinator.fields import MAX_ID
from tests.world import World, error_code

API = "/api/v1"


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("W3siaWQiOjF9XQ", id="object-in-place-of-id"),
        pytest.param(_cursor([MAX_ID + 1]), id="id-beyond-range"),
        pytest.param(_cursor([True]), id="boolean"),
        pytest.param("bm90IGpzb24", id="not-json"),
        pytest.param("////", id="not-base64"),
    ],
)
async def test_a_malformed_cursor_is_422(client: httpx.AsyncClient, world: World, cursor: str) -> None:
    for path in ("/people", "/stations", "/notifications"):
        response = await client.get(API + path, params={"cursor": cursor}, headers=world.admin)
        assert (response.status_code, error_code(response)) == (422, "invalid_cursor"), path


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["0001-01-01T00:00:00+14:00", 1], id="time-before-year-1-in-utc"),
        pytest.param(["2026-12-01T00:00:00", 1], id="time-without-offset"),
        pytest.param([1, 1], id="number-in-place-of-time"),
    ],
)
async def test_a_malformed_time_cursor_is_422(
    client: httpx.AsyncClient, world: World, values: list[Any]
) -> None:
    response = await client.get(f"{API}/events", params={"cursor": _cursor(values)}, headers=world.organizer)
    assert (response.status_code, error_code(response)) == (422, "invalid_cursor")
