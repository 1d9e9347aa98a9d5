"""Home visits sent by the offline record form: the upload needs the page's form token, a bad
record is refused with its reason while the others are stored, and a replay stores nothing."""

from __future__ import annotations

import httpx

from coordinator.auth.models import Role
from coordinator.db import transaction
from coordinator.visits.models import VisitRecord
from tests.factories import create_user
from tests.web.browsing import log_in
from tests.world import World


async def test_a_replay_stores_nothing_and_a_bad_record_says_why(
    client: httpx.AsyncClient, world: World
) -> None:
    async with transaction(world.sessionmaker) as session:
        await create_user(session, world.clock, Role.organizer, [world.station], username="org")
    first, second = (
        await world.resident(categories=["extreme_poverty"]),
        await world.resident(categories=["low_income"]),
    )
    event = await world.event(theme="home_visit")
    visited_at = world.clock.now().isoformat()
    good = {"client_id": "v-1", "event_id": event.id, "resident_id": first.id, "visited_at": visited_at}
    good |= {"outcome": "visited", "needs": ["medical"]}
    unknown_need = {**good, "client_id": "v-2", "resident_id": second.id, "needs": ["flying"]}
    no_outcome = {"client_id": "v-3", "event_id": event.id, "resident_id": second.id}
    await log_in(client, "org")
    csrf = (await client.get("/web/visits/token")).json()["csrf"]
    batch = {"records": [good, unknown_need, no_outcome]}

    refused = await client.post("/web/visits/batch", json=batch)
    assert refused.status_code == 403
    sent = await client.post("/web/visits/batch", json=batch, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 200
    results = sent.json()["results"]
    assert [(r["client_id"], r["outcome"]) for r in results] == [
        ("v-1", "applied"),
        ("v-2", "rejected"),
        ("v-3", "rejected"),
    ]
    assert "flying" in results[1]["message"]
    assert "flying" in results[1]["message_en"]
    assert results[2]["message"] == "记录内容无效：outcome"
    again = await client.post("/web/visits/batch", json={"records": [good]}, headers={"X-CSRF-Token": csrf})
    assert [r["outcome"] for r in again.json()["results"]] == ["replayed"]
    assert await world.count(VisitRecord) == 1
