"""An activity under way for the door-page tests, made through the JSON API as the organizer: 22
confirmed people, 3 waiting, and the personal QR images (drawn by the server with segno)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import World
from tests.factories import PASSWORD, unique_mobile

PLACES = 22
PEOPLE = 25


@dataclass(frozen=True)
class DoorActivity:
    event_id: int
    confirmed: list[dict[str, Any]]  # people as the API answers them, in sign-up order
    waiting: list[dict[str, Any]]
    api: httpx.Client

    def qr_image(self, person_id: int) -> str:
        """The person's current code as a PNG data URL."""
        code = self.api.get(f"/people/{person_id}/qr").json()
        return f"data:image/png;base64,{code['png_base64']}"

    def revoke(self, person_id: int) -> None:
        self.api.post(f"/people/{person_id}/qr/revoke").raise_for_status()

    def attendance(self) -> list[dict[str, Any]]:
        answer = self.api.get(f"/events/{self.event_id}/attendance", params={"limit": 200}).json()
        items: list[dict[str, Any]] = answer["items"]
        return items


def organizer_api(world: World) -> httpx.Client:
    api = httpx.Client(base_url=f"{world.base_url}/api/v1")
    token = api.post("/auth/token", data={"username": world.organizer, "password": PASSWORD})
    token.raise_for_status()
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return api


def door_activity(world: World) -> DoorActivity:
    """Starts in 20 minutes (check-in opened 40 minutes ago), lasts three hours."""
    api = organizer_api(world)
    starts_at = datetime.now(UTC) + timedelta(minutes=20)
    event = api.post(
        "/events",
        json={
            "station_id": world.station_id,
            "theme": "birthday_party",
            "title": "我们共成长·十二月生日会",
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
            "roles": [{"name": "志愿者", "count": PLACES}],
        },
    )
    event.raise_for_status()
    event_id = event.json()["id"]
    api.post(f"/events/{event_id}/publish").raise_for_status()
    people = []
    for i in range(PEOPLE):
        person = api.post(
            "/people",
            json={"station_id": world.station_id, "name": f"门口志愿者{i + 1:02d}", "phone": unique_mobile()},
        )
        person.raise_for_status()
        people.append(person.json())
        api.post(f"/events/{event_id}/signups", json={"person_id": person.json()["id"]}).raise_for_status()
    return DoorActivity(event_id, people[:PLACES], people[PLACES:], api)
