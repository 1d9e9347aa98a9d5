"""QR check-in: the event's code scanned by volunteers, and people's own codes scanned by organizers."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance, AttendanceAudit
from coordinator.clock import FixedClock
from coordinator.events.models import EventStatus
from tests.api.attendance_world import Running, attendance_of
from tests.conftest import START
from tests.factories import create_event
from tests.stored import count_rows, domain_events
from tests.world import World


async def _code(
    client: httpx.AsyncClient, world: World, running: Running, event_id: int | None = None
) -> str:
    response = await client.get(
        f"/api/v1/events/{event_id or running.event.id}/checkin-code", headers=world.organizer
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def _person_code(client: httpx.AsyncClient, headers: dict[str, str], person_id: int) -> str:
    response = await client.get(f"/api/v1/people/{person_id}/qr", headers=headers)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_checkin_code_gives_token_link_window_and_qr_in_svg_and_png(
    client: httpx.AsyncClient, world: World, running: Running
) -> None:
    url = f"/api/v1/events/{running.event.id}/checkin-code"
    body = (await client.get(url, headers=world.organizer)).json()
    assert body["url"].startswith("http://127.0.0.1:8000/web/checkin?token=")
    assert body["token"] in body["url"]
    assert body["event_id"] == running.event.id
    # Opens an hour before the 10:30 start, closes at the 12:30 end (Kaili time).
    assert (body["opens_at"], body["closes_at"]) == ("2026-11-29T09:30:00+08:00", "2026-11-29T12:30:00+08:00")
    assert body["svg"].startswith("<svg")
    assert base64.b64decode(body["png_base64"]).startswith(b"\x89PNG\r\n\x1a\n")
    svg = await client.get(url, params={"format": "svg"}, headers=world.organizer)
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg")
    png = await client.get(url, params={"format": "png"}, headers=world.organizer)
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


async def test_checkin_code_is_for_staff_of_the_event_station(
    client: httpx.AsyncClient, world: World, running: Running
) -> None:
    url = f"/api/v1/events/{running.event.id}/checkin-code"
    volunteer = await client.get(url, headers=running.alice_login)
    assert (volunteer.status_code, volunteer.json()["error"]["code"]) == (403, "role_forbidden")
    other = await client.get(url, headers=world.other_organizer)
    assert (other.status_code, other.json()["error"]["code"]) == (404, "event_not_found")


async def test_first_scan_checks_in_next_checks_out_and_later_scans_change_nothing(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token = await _code(client, world, running)

    async def scan() -> str:
        response = await client.post("/api/v1/checkins", json={"token": token}, headers=running.alice_login)
        assert response.status_code == 200, response.text
        action: str = response.json()["action"]
        return action

    assert await scan() == "checked_in"
    clock.set(START + timedelta(minutes=1))
    assert await scan() == "unchanged"  # a double tap is not a check-out
    clock.set(START + timedelta(minutes=95))
    assert await scan() == "checked_out"
    clock.set(START + timedelta(minutes=100))
    assert await scan() == "unchanged"
    row = await attendance_of(sessionmaker, running.event, running.alice)
    assert row is not None
    assert (row.status, row.method, row.approved, row.walk_in) == ("present", "qr", True, False)
    assert (row.checked_in_at, row.checked_out_at) == (START, START + timedelta(minutes=95))
    assert row.minutes == 95
    events = await domain_events(sessionmaker, "AttendanceRecorded")
    assert [e.payload["change"] for e in events] == ["created", "updated"]
    assert events[1].payload["changed"] == ["checked_out_at", "minutes"]
    assert await count_rows(sessionmaker, Attendance) == 1


async def test_forged_or_foreign_tokens_are_invalid_token_and_store_nothing(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world, running)
    header, payload, signature = token.split(".")
    tampered_claims = base64.urlsafe_b64encode(b'{"eid": 999, "pur": "checkin"}').decode().rstrip("=")
    forged = [
        f"{header}.{payload}.{signature[:-4]}AAAA",
        f"{header}.{tampered_claims}.{signature}",
        jwt.encode(
            {"eid": running.event.id, "pur": "checkin"},
            "a-guessed-secret-that-is-long-enough-0123456789",
            algorithm="HS256",
        ),
        await _person_code(client, world.organizer, running.alice.id),  # right signature, wrong purpose
        "not a token",
    ]
    for bad in forged:
        response = await client.post("/api/v1/checkins", json={"token": bad}, headers=running.alice_login)
        assert response.status_code == 400, bad
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("invalid_token", "token")
        assert "二维码" in error["message"]
    assert await count_rows(sessionmaker, Attendance) == 0


@pytest.mark.parametrize(
    "offset",
    [timedelta(minutes=-31), timedelta(hours=2, minutes=30), timedelta(hours=10)],
    ids=["before-window", "at-end", "hours-later"],
)
async def test_scan_outside_the_window_is_checkin_window_closed(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
    offset: timedelta,
) -> None:
    token = await _code(client, world, running)
    clock.set(START + offset)
    response = await client.post("/api/v1/checkins", json={"token": token}, headers=running.alice_login)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "checkin_window_closed"
    assert error["details"] == {
        "opens_at": "2026-11-29T01:30:00+00:00",
        "closes_at": "2026-11-29T04:30:00+00:00",
    }
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_code_of_another_event_is_token_event_mismatch(
    client: httpx.AsyncClient,
    world: World,
    running: Running,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        second = await create_event(session, clock, world.station, starts_in=timedelta(minutes=10))
    token = await _code(client, world, running, second.id)
    response = await client.post(
        "/api/v1/checkins", json={"token": token, "event_id": running.event.id}, headers=running.alice_login
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "token_event_mismatch")
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_volunteer_without_confirmed_signup_cannot_check_in_by_code(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world, running)
    response = await client.post("/api/v1/checkins", json={"token": token}, headers=running.carol_login)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_signed_up")
    staff = await client.post("/api/v1/checkins", json={"token": token}, headers=world.organizer)
    assert (staff.status_code, staff.json()["error"]["code"]) == (403, "not_a_volunteer")
    assert await count_rows(sessionmaker, Attendance) == 0


async def test_cancelled_event_takes_no_checkins(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world, running)
    async with sessionmaker() as session, session.begin():
        event = await session.get(type(running.event), running.event.id)
        assert event is not None
        event.status = EventStatus.cancelled
    response = await client.post("/api/v1/checkins", json={"token": token}, headers=running.alice_login)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "event_not_open")


async def test_concurrent_scans_of_one_person_make_one_row(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _code(client, world, running)
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/checkins", json={"token": token}, headers=running.alice_login)
            for _ in range(8)
        )
    )
    assert [r.status_code for r in responses] == [200] * 8
    assert sorted(r.json()["action"] for r in responses) == ["checked_in"] + ["unchanged"] * 7
    assert await count_rows(sessionmaker, Attendance) == 1
    assert len(await domain_events(sessionmaker, "AttendanceRecorded")) == 1
    assert await count_rows(sessionmaker, AttendanceAudit) == 0


async def test_person_code_is_shown_to_the_person_and_their_station_staff_only(
    client: httpx.AsyncClient, world: World, running: Running
) -> None:
    own = await client.get(f"/api/v1/people/{running.alice.id}/qr", headers=running.alice_login)
    assert own.status_code == 200
    assert own.json()["person_id"] == running.alice.id
    assert own.json()["url"].startswith("http://127.0.0.1:8000/web/scan?token=")
    png = await client.get(
        f"/api/v1/people/{running.alice.id}/qr", params={"format": "png"}, headers=world.organizer
    )
    assert png.content.startswith(b"\x89PNG")
    for headers in (running.bob_login, world.other_organizer):
        response = await client.get(f"/api/v1/people/{running.alice.id}/qr", headers=headers)
        assert response.status_code == 404


async def test_a_revoked_person_code_stops_working_and_the_new_one_works(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    url = f"/api/v1/events/{running.event.id}/scan"
    lost = await _person_code(client, running.alice_login, running.alice.id)
    revoked = await client.post(f"/api/v1/people/{running.alice.id}/qr/revoke", headers=running.alice_login)
    assert revoked.status_code == 200, revoked.text
    fresh: str = revoked.json()["token"]
    assert fresh != lost
    assert await _person_code(client, world.organizer, running.alice.id) != lost  # codes shown now are new

    refused = await client.post(url, json={"token": lost}, headers=world.organizer)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "revoked_token")
    assert "已作废" in refused.json()["error"]["message"]
    assert await count_rows(sessionmaker, Attendance) == 0
    accepted = await client.post(url, json={"token": fresh}, headers=world.organizer)
    assert (accepted.status_code, accepted.json()["action"]) == (200, "checked_in")
    # Only the person or their station's staff may revoke it.
    for headers in (running.bob_login, world.other_organizer):
        response = await client.post(f"/api/v1/people/{running.alice.id}/qr/revoke", headers=headers)
        assert response.status_code == 404


async def test_organizer_scans_person_code_walk_ins_need_the_flag(
    client: httpx.AsyncClient, world: World, running: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    url = f"/api/v1/events/{running.event.id}/scan"
    alice = await _person_code(client, running.alice_login, running.alice.id)
    first = await client.post(url, json={"token": alice}, headers=world.organizer)
    assert first.status_code == 200, first.text
    assert first.json()["action"] == "checked_in"
    assert first.json()["attendance"]["person_name"] == "杨秀英"
    carol = await _person_code(client, running.carol_login, running.carol.id)
    refused = await client.post(url, json={"token": carol}, headers=world.organizer)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_signed_up")
    walk_in = await client.post(url, json={"token": carol, "walk_in": True}, headers=world.organizer)
    assert walk_in.json()["attendance"]["walk_in"] is True
    event_code = await _code(client, world, running)
    wrong_kind = await client.post(url, json={"token": event_code}, headers=world.organizer)
    assert (wrong_kind.status_code, wrong_kind.json()["error"]["code"]) == (400, "invalid_token")
    volunteer = await client.post(url, json={"token": alice}, headers=running.bob_login)
    assert volunteer.status_code == 403
    assert await count_rows(sessionmaker, Attendance) == 2
