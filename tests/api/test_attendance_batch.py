"""Offline batches: replays change nothing, conflicts resolve the same way in any order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.completion import complete_finished_events
from coordinator.attendance.models import Attendance, OfflineRecord
from coordinator.bus.models import OutboxEvent
from coordinator.clock import FixedClock
from coordinator.settings import Settings
from tests.api.attendance_world import Running, attendance_of
from tests.conftest import START
from tests.stored import count_rows
from tests.world import World

# Kaili times during the event (10:30–12:30 local, 02:30–04:30 UTC).
T0929, T1025, T1031, T1215, T1240 = (
    "2026-11-29T09:29:00+08:00",
    "2026-11-29T10:25:00+08:00",
    "2026-11-29T10:31:00+08:00",
    "2026-11-29T12:15:00+08:00",
    "2026-11-29T12:40:00+08:00",
)


@pytest.fixture(autouse=True)
def _after_the_event(running: Running, clock: FixedClock) -> None:
    clock.set(START + timedelta(hours=3))  # the phone comes back in signal after the event


def _record(running: Running, client_id: str, kind: str, at: str, **fields: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "event_id": running.event.id,
        "person_id": running.alice.id,
        "kind": kind,
        "at": at,
        **fields,
    }


async def _upload(client: httpx.AsyncClient, world: World, *records: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.post(
        "/api/v1/attendance/batch", json={"records": list(records)}, headers=world.organizer
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def test_batch_applies_its_own_times_and_a_replay_changes_nothing(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    records = [
        _record(running, "c-1", "checkin", T1025),
        _record(running, "c-2", "checkout", T1215),
        _record(running, "c-3", "checkin", T1031, person_id=running.bob.id),
    ]
    first = await _upload(client, world, *records)
    assert [r["outcome"] for r in first] == ["applied", "applied", "applied"]
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert (row.method, row.client_id, row.minutes) == ("offline_batch", "c-1", 110)
    events = await count_rows(sessionmaker, OutboxEvent)
    replay = await _upload(client, world, *records)
    assert [r["outcome"] for r in replay] == ["replayed"] * 3
    assert await count_rows(sessionmaker, OutboxEvent) == events
    again = await attendance_of(sessionmaker, running.event, running.alice)
    assert again is not None
    assert (again.checked_in_at, again.checked_out_at, again.updated_at) == (
        row.checked_in_at,
        row.checked_out_at,
        row.updated_at,
    )


async def test_conflicting_checkins_keep_the_earliest_and_report_it_in_any_order(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Two phones scanned Alice: 10:31 on one, 10:25 on the other; check-outs 12:15 and 12:40.
    late_first = await _upload(
        client,
        world,
        _record(running, "a-in", "checkin", T1031),
        _record(running, "a-out", "checkout", T1215),
    )
    assert [r["outcome"] for r in late_first] == ["applied", "applied"]
    early = await _upload(
        client,
        world,
        _record(running, "b-in", "checkin", T1025),
        _record(running, "b-out", "checkout", T1240),
    )
    assert [(r["outcome"], r["resolution"]) for r in early] == [
        ("conflict", "replaced_stored"),
        ("conflict", "replaced_stored"),
    ]
    assert early[0]["stored_at"] == "2026-11-29T02:31:00Z"
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert (row.checked_in_at, row.checked_out_at) == (
        START + timedelta(minutes=25),
        START + timedelta(minutes=160),
    )
    # The other order (Bob): the same end state, the later records reported as kept_stored.
    bob = {"person_id": running.bob.id}
    await _upload(
        client,
        world,
        _record(running, "c-in", "checkin", T1025, **bob),
        _record(running, "c-out", "checkout", T1240, **bob),
    )
    late = await _upload(
        client,
        world,
        _record(running, "d-in", "checkin", T1031, **bob),
        _record(running, "d-out", "checkout", T1215, **bob),
    )
    assert [r["resolution"] for r in late] == ["kept_stored", "kept_stored"]
    bob_row = await attendance_of(sessionmaker, running.event, running.bob)
    assert bob_row is not None
    assert (bob_row.checked_in_at, bob_row.checked_out_at) == (row.checked_in_at, row.checked_out_at)


async def test_two_checkins_in_one_batch_resolve_to_the_earliest(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    results = await _upload(
        client,
        world,
        _record(running, "x-late", "checkin", T1031),
        _record(running, "x-early", "checkin", T1025),
    )
    assert [(r["client_id"], r["outcome"], r["resolution"]) for r in results] == [
        ("x-late", "conflict", "kept_stored"),
        ("x-early", "applied", None),
    ]
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert row.checked_in_at == START + timedelta(minutes=25)


async def test_batch_overlapping_an_earlier_scan_changes_nothing(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock.set(START + timedelta(minutes=25))
    code = (
        await client.get(f"/api/v1/events/{running.event.id}/checkin-code", headers=world.organizer)
    ).json()
    scanned = await client.post(
        "/api/v1/checkins", json={"token": code["token"]}, headers=running.alice_login
    )
    assert scanned.json()["action"] == "checked_in"
    clock.set(START + timedelta(hours=3))
    events = await count_rows(sessionmaker, OutboxEvent)
    results = await _upload(
        client, world, _record(running, "o-1", "checkin", T1025), _record(running, "o-2", "checkin", T1031)
    )
    assert [r["outcome"] for r in results] == ["unchanged", "conflict"]
    assert results[1]["resolution"] == "kept_stored"
    assert await count_rows(sessionmaker, OutboxEvent) == events


async def test_bad_records_are_rejected_one_by_one_while_the_rest_apply(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    results = await _upload(
        client,
        world,
        _record(running, "ok", "checkin", T1025),
        _record(running, "forged", "checkin", T1025, person_id=None, person_token="forged.token.here"),
        _record(running, "stranger", "checkin", T1025, person_id=running.carol.id),
        _record(running, "too-early", "checkin", T0929, person_id=running.bob.id),
        _record(running, "future", "checkin", "2026-11-29T16:00:00+08:00", person_id=running.bob.id),
        _record(running, "no-event", "checkin", T1025, event_id=99999),
        _record(running, "out-before-in", "checkout", "2026-11-29T10:26:00+08:00"),
    )
    assert [(r["client_id"], r["outcome"], r["code"]) for r in results] == [
        ("ok", "applied", None),
        ("forged", "rejected", "invalid_token"),
        ("stranger", "rejected", "not_signed_up"),
        ("too-early", "rejected", "time_outside_event"),
        ("future", "rejected", "time_in_future"),
        ("no-event", "rejected", "event_not_found"),
        ("out-before-in", "applied", None),
    ]
    assert await count_rows(sessionmaker, Attendance) == 1
    # A rejected record's id is not remembered: sent again, corrected, it applies.
    retry = await _upload(
        client,
        world,
        _record(running, "stranger", "checkin", T1025, person_id=running.carol.id, walk_in=True),
    )
    assert retry[0]["outcome"] == "applied"
    assert await count_rows(sessionmaker, OfflineRecord) == 3


async def test_checkout_before_the_stored_checkin_is_rejected_and_not_remembered(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _upload(client, world, _record(running, "in", "checkin", T1031))
    results = await _upload(client, world, _record(running, "out", "checkout", T1025))
    assert (results[0]["outcome"], results[0]["code"]) == ("rejected", "checkout_before_checkin")
    assert await count_rows(sessionmaker, OfflineRecord) == 1


async def test_person_code_in_a_batch_identifies_the_person(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = (await client.get(f"/api/v1/people/{running.bob.id}/qr", headers=world.organizer)).json()["token"]
    results = await _upload(
        client, world, _record(running, "t-1", "checkin", T1025, person_id=None, person_token=token)
    )
    assert results[0]["outcome"] == "applied"
    assert await attendance_of(sessionmaker, running.event, running.bob) is not None


async def test_a_revoked_person_code_in_a_batch_is_rejected(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = (await client.get(f"/api/v1/people/{running.bob.id}/qr", headers=world.organizer)).json()["token"]
    revoked = await client.post(f"/api/v1/people/{running.bob.id}/qr/revoke", headers=world.organizer)
    assert revoked.status_code == 200
    results = await _upload(
        client, world, _record(running, "t-1", "checkin", T1025, person_id=None, person_token=token)
    )
    assert (results[0]["outcome"], results[0]["code"]) == ("rejected", "revoked_token")
    assert await attendance_of(sessionmaker, running.event, running.bob) is None


async def test_upload_after_completion_turns_a_no_show_into_present(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert await complete_finished_events(sessionmaker=sessionmaker, clock=clock, settings=settings) == 1
    no_show = await attendance_of(sessionmaker, running.event, running.alice)
    assert no_show is not None
    assert no_show.status == "no_show"
    results = await _upload(client, world, _record(running, "late-sync", "checkin", T1025))
    assert results[0]["outcome"] == "applied"
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert (row.status, row.method, row.minutes) == ("present", "offline_batch", 120)


async def test_concurrent_uploads_of_one_batch_apply_each_record_once(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    records = [
        _record(running, "p-1", "checkin", T1025),
        _record(running, "p-2", "checkout", T1215),
        _record(running, "p-3", "checkin", T1031, person_id=running.bob.id),
    ]
    uploads = await asyncio.gather(*(_upload(client, world, *records) for _ in range(4)))
    outcomes = sorted(r["outcome"] for results in uploads for r in results)
    assert outcomes == ["applied"] * 3 + ["replayed"] * 9
    assert await count_rows(sessionmaker, Attendance) == 2
    assert await count_rows(sessionmaker, OfflineRecord) == 3


async def test_batch_shape_errors_refuse_the_whole_batch(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    duplicate_ids = [_record(running, "same", "checkin", T1025), _record(running, "same", "checkout", T1215)]
    both_person_kinds = [_record(running, "b", "checkin", T1025, person_token="x")]
    for records in (duplicate_ids, both_person_kinds):
        response = await client.post(
            "/api/v1/attendance/batch", json={"records": records}, headers=world.organizer
        )
        assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    volunteer = await client.post(
        "/api/v1/attendance/batch",
        json={"records": [_record(running, "v", "checkin", T1025)]},
        headers=running.alice_login,
    )
    assert volunteer.status_code == 403
    assert await count_rows(sessionmaker, Attendance) == 0
