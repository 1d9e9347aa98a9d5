"""Shortcuts for tests of service records: valid ID numbers and setting a person's identity."""

from __future__ import annotations

import httpx

from coordinator.people.field_rules import normalize_id_number

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(first17: str) -> str:
    """An 18-character resident ID number with its check character (GB 11643)."""
    check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]
    return normalize_id_number(first17 + check)


async def set_identity(
    client: httpx.AsyncClient, headers: dict[str, str], person_id: int, id_number: str, number: str | None
) -> httpx.Response:
    body = {"id_type": "resident_id", "id_number": id_number, "volunteer_number": number}
    response = await client.put(f"/api/v1/people/{person_id}/identity", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response
