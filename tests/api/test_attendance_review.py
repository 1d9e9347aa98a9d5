"""Self-reports wait for approval; hours are capped unless staff approve more; edits are audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.completion import complete_finished_events
from coordinator.attendance.models import Attendance, AttendanceAudit
from coordinator.clock import FixedClock
from coordinator.settings import Settings
from tests.api.attendance_world import Running, attendance_of
from tests.conftest import START
from tests.stored import count_rows, domain_events
from tests.world import World

REPORT = {
    "checked_in_at": "2026-11-29T10:30:00+08:00",
    "checked_out_at": "2026-11-29T12:00:00+08:00",
    "note": "入户走访，没有社工在场",
}


@pytest.fixture(autouse=True)
def _after_the_event(running: Running, clock: FixedClock) -> None:
    clock.set(START + timedelta(hours=3))


async def _self_report(
    client: httpx.AsyncClient, running: Running, headers: Any, **fields: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{running.event.id}/self-report", json={**REPORT, **fields}, headers=headers
    )


async def _present(
    client: httpx.AsyncClient, world: World, running: Running, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/events/{running.event.id}/attendance",
        json={"records": [{"person_id": running.alice.id, "present": True, **fields}]},
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["items"][0]
    return item


async def test_self_report_waits_for_approval_by_staff(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reported = await _self_report(client, running, running.alice_login)
    assert reported.status_code == 201, reported.text
    body = reported.json()
    assert (body["method"], body["approved"], body["minutes"], body["note"]) == (
        "self_report",
        False,
        90,
        REPORT["note"],
    )
    # Changing a waiting report is allowed; the volunteer cannot approve it.
    again = await _self_report(
        client, running, running.alice_login, checked_out_at="2026-11-29T12:10:00+08:00"
    )
    assert again.json()["minutes"] == 100
    url = f"/api/v1/attendance/{body['id']}/approve"
    assert (await client.post(url, headers=running.alice_login)).status_code == 403
    assert (await client.post(url, headers=world.other_organizer)).status_code == 404
    approved = await client.post(url, json={"reason": "电话核实"}, headers=world.organizer)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["approved"], approved.json()["minutes"]) == (True, 100)
    twice = await client.post(url, headers=world.organizer)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "not_pending")
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert row.approved_by is not None
    assert row.approved_at == START + timedelta(hours=3)
    events = await domain_events(sessionmaker, "AttendanceRecorded")
    assert [e.payload["approved"] for e in events] == [False, False, True]


async def test_self_report_rules(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    stranger = await _self_report(client, running, running.carol_login)
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (409, "not_signed_up")
    staff = await _self_report(client, running, world.organizer)
    assert staff.status_code == 403
    other_day = await _self_report(
        client,
        running,
        running.alice_login,
        checked_in_at="2026-11-28T10:30:00+08:00",
        checked_out_at="2026-11-28T12:00:00+08:00",
    )
    assert (other_day.status_code, other_day.json()["error"]["code"]) == (422, "time_outside_event")
    backwards = await _self_report(
        client, running, running.alice_login, checked_out_at="2026-11-29T10:00:00+08:00"
    )
    assert backwards.status_code == 422
    await _present(client, world, running)
    recorded = await _self_report(client, running, running.alice_login)
    assert (recorded.status_code, recorded.json()["error"]["code"]) == (409, "already_recorded")
    clock.set(START)
    early = await _self_report(client, running, running.bob_login)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "event_not_started")
    assert await count_rows(sessionmaker, Attendance) == 1


async def test_hours_are_capped_at_the_event_length_unless_staff_set_more(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    item = await _present(
        client,
        world,
        running,
        checked_in_at="2026-11-29T09:30:00+08:00",
        checked_out_at="2026-11-29T13:00:00+08:00",
    )
    assert item["minutes"] == 120  # 3.5 hours there, the event lasts 2
    url = f"/api/v1/attendance/{item['id']}"
    more = await client.patch(url, json={"minutes": 210, "reason": "布置场地"}, headers=world.organizer)
    assert more.status_code == 200, more.text
    assert (more.json()["minutes"], more.json()["hours"], more.json()["minutes_overridden"]) == (
        210,
        3.5,
        True,
    )
    # A later time change keeps the approved figure; sending null computes it again.
    moved = await client.patch(
        url, json={"checked_out_at": "2026-11-29T11:00:00+08:00"}, headers=world.organizer
    )
    assert moved.json()["minutes"] == 210
    again = await client.patch(url, json={"minutes": None}, headers=world.organizer)
    assert (again.json()["minutes"], again.json()["minutes_overridden"]) == (90, False)
    # More than the activity lasts only with a reason; refused, nothing changes.
    silent = await client.patch(url, json={"minutes": 150}, headers=world.organizer)
    assert (silent.status_code, silent.json()["error"]["code"]) == (422, "reason_required")
    within = await client.patch(url, json={"minutes": 120}, headers=world.organizer)
    assert (within.status_code, within.json()["minutes"]) == (200, 120)


async def test_staff_edit_writes_who_when_before_after_to_the_audit_trail(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    item = await _present(client, world, running)
    clock.set(START + timedelta(hours=4))
    response = await client.patch(
        f"/api/v1/attendance/{item['id']}",
        json={"status": "late", "checked_in_at": "2026-11-29T11:00:00+08:00", "reason": "迟到半小时"},
        headers=world.organizer,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["minutes"]) == ("late", 90)
    trail = await client.get(f"/api/v1/attendance/{item['id']}/audit", headers=world.organizer)
    entries = {e["field"]: e for e in trail.json()}
    assert set(entries) == {"status", "checked_in_at", "minutes"}
    assert (entries["status"]["before"], entries["status"]["after"]) == ("present", "late")
    assert (entries["checked_in_at"]["before"], entries["checked_in_at"]["after"]) == (
        "2026-11-29T02:30:00+00:00",
        "2026-11-29T03:00:00+00:00",
    )
    assert (entries["minutes"]["before"], entries["minutes"]["after"]) == ("120", "90")
    async with sessionmaker() as session:
        audit = list(await session.scalars(select(AttendanceAudit)))
    assert {(a.changed_at, a.reason) for a in audit} == {(START + timedelta(hours=4), "迟到半小时")}
    assert len({a.changed_by for a in audit}) == 1
    assert audit[0].changed_by is not None
    # Nothing changed: no audit entry.
    same = await client.patch(
        f"/api/v1/attendance/{item['id']}", json={"status": "late"}, headers=world.organizer
    )
    assert same.status_code == 200
    assert await count_rows(sessionmaker, AttendanceAudit) == 3


async def test_edits_by_the_wrong_role_or_station_are_refused(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    item = await _present(client, world, running)
    url = f"/api/v1/attendance/{item['id']}"
    own = await client.patch(url, json={"minutes": 600}, headers=running.alice_login)
    assert (own.status_code, own.json()["error"]["code"]) == (403, "role_forbidden")
    other = await client.patch(url, json={"minutes": 600}, headers=world.other_organizer)
    assert other.status_code == 404
    backwards = await client.patch(
        url, json={"checked_out_at": "2026-11-29T10:00:00+08:00"}, headers=world.organizer
    )
    assert (backwards.status_code, backwards.json()["error"]["code"]) == (422, "checkout_before_checkin")
    too_much = await client.patch(url, json={"minutes": 24 * 60 + 1}, headers=world.organizer)
    assert too_much.status_code == 422
    null_status = await client.patch(url, json={"status": None}, headers=world.organizer)
    assert null_status.status_code == 422
    # The volunteer reads their own record, not others'.
    assert (await client.get(url, headers=running.alice_login)).status_code == 200
    assert (await client.get(url, headers=running.bob_login)).status_code == 404
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert (row.minutes, row.minutes_overridden) == (120, False)
    assert await count_rows(sessionmaker, AttendanceAudit) == 0


async def test_event_attendance_list_pages_for_staff(
    client: httpx.AsyncClient, world: World, running: Running
) -> None:
    await client.post(
        f"/api/v1/events/{running.event.id}/attendance",
        json={"records": [{"person_id": p.id, "present": True} for p in (running.alice, running.bob)]},
        headers=world.organizer,
    )
    url = f"/api/v1/events/{running.event.id}/attendance"
    first = await client.get(url, params={"limit": 1}, headers=world.organizer)
    assert len(first.json()["items"]) == 1
    second = await client.get(
        url, params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=world.organizer
    )
    names = {first.json()["items"][0]["person_name"], second.json()["items"][0]["person_name"]}
    assert names == {"杨秀英", "吴金花"}
    assert (await client.get(url, headers=running.alice_login)).status_code == 403


async def test_self_report_after_completion_replaces_the_no_show(
    client: httpx.AsyncClient,
    running: Running,
    clock: FixedClock,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert await complete_finished_events(sessionmaker=sessionmaker, clock=clock, settings=settings) == 1
    reported = await _self_report(client, running, running.alice_login)
    assert reported.status_code == 201, reported.text
    assert (reported.json()["status"], reported.json()["approved"]) == ("present", False)
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert (row.status, row.method, row.minutes) == ("present", "self_report", 90)
    async with sessionmaker() as session:
        audit = {a.field: (a.before, a.after) for a in await session.scalars(select(AttendanceAudit))}
    assert audit["status"] == ("no_show", "present")
