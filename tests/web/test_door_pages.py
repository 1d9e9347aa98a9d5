"""The door page's server side without a browser: the roster it keeps (phones masked), the upload
that needs the page's form token, the manifest and service worker, and how files are sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from coordinator.attendance.models import Attendance
from coordinator.auth.models import Role
from coordinator.db import transaction
from coordinator.events.models import SignupStatus
from coordinator.masking import mask_phone
from coordinator.people.models import Person
from coordinator.web.static_files import static_url
from tests.factories import create_event, create_person, create_signup, create_user, create_volunteer_login
from tests.stored import count_rows
from tests.web.browsing import log_in
from tests.web.test_volunteer_pages import _log_in_as
from tests.world import World


@dataclass(frozen=True)
class Door:
    event: int
    confirmed: Person
    waiting: Person
    login: int


@pytest.fixture
async def door(world: World) -> Door:
    """An event under way with one place: 杨秀英 confirmed, 吴金花 waiting; an organizer "org"."""
    async with transaction(world.sessionmaker) as session:
        clock = world.clock
        await create_user(session, clock, Role.organizer, [world.station], username="org")
        event = await create_event(
            session,
            clock,
            world.station,
            starts_in=timedelta(minutes=30),
            roles=[{"name": "引导员", "count": 1}],
        )
        confirmed = await create_person(session, clock, world.station, name="杨秀英")
        waiting = await create_person(session, clock, world.station, name="吴金花")
        await create_signup(session, clock, event, confirmed)
        await create_signup(session, clock, event, waiting, status=SignupStatus.waitlisted, waitlist_seq=1)
        login = await create_volunteer_login(session, clock, confirmed)
        return Door(event.id, confirmed, waiting, login.id)


async def test_roster_lists_confirmed_and_waiting_people_with_masked_phones(
    client: httpx.AsyncClient, door: Door
) -> None:
    await log_in(client, "org")
    page = await client.get(f"/web/events/{door.event}/door")
    assert page.status_code == 200
    assert "camera=(self)" in page.headers["permissions-policy"]
    assert f'href="/web/events/{door.event}/door/manifest.webmanifest"' in page.text
    roster = await client.get(f"/web/events/{door.event}/door/roster")
    assert roster.headers["cache-control"] == "no-store"
    people = roster.json()["people"]
    assert [(p["name"], p["role"], p["status"], p["position"], p["phone"]) for p in people] == [
        ("杨秀英", "引导员", "confirmed", None, mask_phone(door.confirmed.phone)),
        ("吴金花", "引导员", "waitlisted", 1, mask_phone(door.waiting.phone)),
    ]
    assert door.confirmed.phone[3:] not in roster.text
    manifest = (await client.get(f"/web/events/{door.event}/door/manifest.webmanifest")).json()
    assert (manifest["start_url"], manifest["display"]) == (f"/web/events/{door.event}/door", "standalone")


async def test_upload_needs_the_page_token_and_a_staff_session(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    door: Door,
) -> None:
    record = {
        "client_id": "door-1",
        "event_id": door.event,
        "person_id": door.confirmed.id,
        "kind": "checkin",
        "at": world.clock.now().isoformat(),
    }
    await log_in(client, "org")
    csrf = (await client.get(f"/web/events/{door.event}/door/roster")).json()["csrf"]
    refused = await client.post("/web/door/batch", json={"records": [record]})
    assert refused.status_code == 403
    assert await count_rows(sessionmaker, Attendance) == 0
    sent = await client.post("/web/door/batch", json={"records": [record]}, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 200
    assert [(r["client_id"], r["outcome"]) for r in sent.json()["results"]] == [("door-1", "applied")]
    again = await client.post("/web/door/batch", json={"records": [record]}, headers={"X-CSRF-Token": csrf})
    assert [r["outcome"] for r in again.json()["results"]] == ["replayed"]
    assert await count_rows(sessionmaker, Attendance) == 1

    client.cookies.clear()
    _log_in_as(client, app, door.login)
    volunteer = await client.get(f"/web/events/{door.event}/door/roster")
    assert volunteer.status_code == 403


async def test_files_go_compressed_and_versioned_files_are_kept_for_a_year(
    client: httpx.AsyncClient, door: Door
) -> None:
    await log_in(client, "org")
    page = await client.get(f"/web/events/{door.event}/door", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    script = await client.get(static_url("door.js"))
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "cache-control" not in (await client.get("/web/static/door.js")).headers
    worker = await client.get("/web/door-sw.js")
    assert (worker.headers["content-type"].split(";")[0], worker.headers["cache-control"]) == (
        "text/javascript",
        "no-cache",
    )
