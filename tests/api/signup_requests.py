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


def starts_in(days: float = 7, hours: float = 0) -> timedelta:
    return timedelta(days=days, hours=hours)
