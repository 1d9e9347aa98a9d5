"""The sign-up, cancellation and invitation requests the sign-up tests send, as an organizer would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.world import Headers, World


def _body(person_id: int, role: int | str | None) -> dict[str, Any]:
    return {"person_id": person_id} if role is None else {"person_id": person_id, "role": role}


async def sign_up(
    client: httpx.AsyncClient, headers: Headers, event_id: int, person_id: int, role: int | str | None = None
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{event_id}/signups", json=_body(person_id, role), headers=headers
    )


async def cancel(
    client: httpx.AsyncClient, headers: Headers, event_id: int, person_id: int
) -> httpx.Response:
    return await client.delete(f"/api/v1/events/{event_id}/signups/{person_id}", headers=headers)


async def invite(
    client: httpx.AsyncClient, world: World, event_id: int, person_id: int, role: int | str | None = None
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{event_id}/invitations", json=_body(person_id, role), headers=world.organizer
    )


async def waiting_positions(
    client: httpx.AsyncClient, world: World, event_id: int, role_id: int | None = None
) -> list[tuple[int, int]]:
    """(person, position) of the people waiting for the event (or one of its roles), in line."""
    params: dict[str, Any] = {"status": "waitlisted", "limit": 500}
    if role_id is not None:
        params["role"] = role_id
    response = await client.get(f"/api/v1/events/{event_id}/signups", params=params, headers=world.organizer)
    assert response.status_code == 200, response.text
    return [(item["person_id"], item["position"]) for item in response.json()["items"]]


def starts_in(days: float = 7, hours: float = 0) -> timedelta:
    return timedelta(days=days, hours=hours)
