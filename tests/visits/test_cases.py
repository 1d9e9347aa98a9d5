"""Case files: only the station's social workers and heads read notes, every read is logged."""

from __future__ import annotations

import httpx

from coordinator.cases.models import CaseRead
from tests.visits.visit_world import social_worker
from tests.world import World, error_code


async def _open(
    client: httpx.AsyncClient, world: World, headers: dict[str, str], worker_id: int
) -> dict[str, object]:
    resident = await world.resident()
    visit = await client.post(
        "/api/v1/visits/records",
        json={
            "resident_id": resident.id,
            "outcome": "visited",
            "notes": "独居，常忘服药",
            "needs": ["medical"],
        },
        headers=headers,
    )
    opened = await client.post(
        "/api/v1/cases",
        json={
            "resident_id": resident.id,
            "worker_person_id": worker_id,
            "title": "独居老人用药照料",
            "assessment": "记忆力下降",
            "plan": "每周电话提醒",
            "visit_record_id": visit.json()["id"],
        },
        headers=headers,
    )
    assert opened.status_code == 201, opened.text
    body: dict[str, object] = opened.json()
    return body


async def test_social_worker_opens_a_case_from_a_visit_and_the_head_reads_it(
    client: httpx.AsyncClient, world: World
) -> None:
    worker, worker_headers = await social_worker(world)
    case = await _open(client, world, worker_headers, worker.id)
    entries = case["entries"]
    assert isinstance(entries, list)
    assert [(e["kind"], e["note"]) for e in entries] == [("visit", "独居，常忘服药")]
    url = f"/api/v1/cases/{case['id']}"
    added = await client.post(
        f"{url}/entries", json={"kind": "contact", "note": "电话提醒服药"}, headers=worker_headers
    )
    assert added.status_code == 201, added.text
    read = await client.get(url, headers=world.head)
    assert (read.status_code, read.json()["assessment"], len(read.json()["entries"])) == (
        200,
        "记忆力下降",
        2,
    )
    closed = await client.post(f"{url}/close", json={"reason": "子女接回同住"}, headers=world.head)
    assert (closed.json()["status"], closed.json()["close_reason"]) == ("closed", "子女接回同住")
    late = await client.post(f"{url}/entries", json={"kind": "note", "note": "x"}, headers=world.head)
    assert (late.status_code, error_code(late)) == (409, "case_closed")


async def test_others_cannot_read_a_case_and_the_read_log_shows_who_read_what(
    client: httpx.AsyncClient, world: World
) -> None:
    worker, worker_headers = await social_worker(world)
    case = await _open(client, world, worker_headers, worker.id)
    url = f"/api/v1/cases/{case['id']}"
    volunteer = await world.volunteer_headers(await world.person())
    for headers, status in [
        (world.organizer, 403),  # same station, not a social worker
        (volunteer, 403),
        (world.volunteer, 403),
        (world.other_organizer, 404),
        (world.other_head, 404),
        (world.admin, 403),  # the county sees statistics, not notes
    ]:
        assert (await client.get(url, headers=headers)).status_code == status
    assert (await client.get(url, headers=world.head)).status_code == 200
    timeline = await client.get(f"/api/v1/residents/{case['resident_id']}/timeline", headers=world.organizer)
    assert timeline.json()["case_entries_hidden"] is True
    assert {i["kind"] for i in timeline.json()["items"]} == {"visit"}
    own = await client.get(f"/api/v1/residents/{case['resident_id']}/timeline", headers=worker_headers)
    assert {i["kind"] for i in own.json()["items"]} == {"visit", "case_entry"}
    log = await client.get(f"/api/v1/cases/reads?station_id={world.station.id}", headers=world.head)
    assert log.status_code == 200, log.text
    assert [r["what"] for r in log.json()] == ["timeline", "case", "case"]
    assert {r["case_id"] for r in log.json()} == {case["id"]}
    assert len({r["user_id"] for r in log.json()}) == 2  # the worker (opening, timeline) and the head
    assert (
        await client.get(f"/api/v1/cases/reads?station_id={world.station.id}", headers=worker_headers)
    ).status_code == 403
    assert await world.count(CaseRead) == 3


async def test_case_worker_must_be_a_social_worker_of_the_station(
    client: httpx.AsyncClient, world: World
) -> None:
    resident = await world.resident()
    plain = await world.person()
    answer = await client.post(
        "/api/v1/cases",
        json={"resident_id": resident.id, "worker_person_id": plain.id, "title": "t"},
        headers=world.head,
    )
    assert (answer.status_code, error_code(answer)) == (422, "not_a_social_worker")
    listed = await client.get(f"/api/v1/cases?station_id={world.station.id}", headers=world.organizer)
    assert listed.json() == []
