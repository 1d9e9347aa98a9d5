"""Staff password login: failures limited per username and per client address (429 with
Retry-After, through the API and the login page), and the password checked off the event loop."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import httpx
import pytest

from coordinator import security
from coordinator.auth.models import LoginAttempt, Role
from coordinator.db import transaction
from coordinator.settings import Settings
from tests.factories import PASSWORD, create_user
from tests.web.browsing import csrf_of
from tests.world import World, error_code

pytestmark = pytest.mark.usefixtures("database_url")
TOKEN = "/api/v1/auth/token"
WINDOW = timedelta(minutes=15)


@pytest.fixture
async def limited(world: World, settings: Settings) -> World:
    """The world with 3 failures allowed per username and 5 per address in 15 minutes, and an
    organizer who logs in as "org"."""
    world.app.state.settings = settings.model_copy(
        update={
            "login_failure_window_seconds": int(WINDOW.total_seconds()),
            "login_max_failures_per_username": 3,
            "login_max_failures_per_address": 5,
        }
    )
    async with transaction(world.sessionmaker) as session:
        await create_user(session, world.clock, Role.organizer, [world.station], username="org")
    return world


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": username, "password": password})


async def test_after_too_many_failures_even_the_right_password_waits_for_the_window(
    limited: World, client: httpx.AsyncClient
) -> None:
    failures = [await _login(client, "org", f"guess-{n}") for n in range(3)]
    assert [a.status_code for a in failures] == [401, 401, 401]
    limited.clock.set(limited.clock.now() + timedelta(minutes=5))

    refused = await _login(client, "org", PASSWORD)

    assert (refused.status_code, error_code(refused)) == (429, "login_rate_limited")
    assert int(refused.headers["retry-after"]) == 10 * 60  # the first failure leaves the window then
    assert "登录失败次数过多" in refused.json()["error"]["message"]
    assert "10 min" in refused.json()["error"]["message_en"]
    limited.clock.set(limited.clock.now() + timedelta(minutes=10))
    assert (await _login(client, "org", PASSWORD)).status_code == 200


async def test_guesses_sent_at_once_are_checked_no_more_often_than_the_limit(
    limited: World, client: httpx.AsyncClient
) -> None:
    answers = await asyncio.gather(*(_login(client, "org", f"guess-{n}") for n in range(12)))
    assert sorted(a.status_code for a in answers) == [401] * 3 + [429] * 9
    assert await limited.count(LoginAttempt) == 3


async def test_failures_from_one_address_limit_every_username_from_it(
    limited: World, client: httpx.AsyncClient
) -> None:
    answers = [await _login(client, f"someone-{n}", "guess") for n in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert (await _login(client, "org", PASSWORD)).status_code == 429


async def test_a_success_clears_the_usernames_failures(limited: World, client: httpx.AsyncClient) -> None:
    assert [(await _login(client, "org", "guess")).status_code for _ in range(2)] == [401, 401]
    assert (await _login(client, "org", PASSWORD)).status_code == 200
    again = [(await _login(client, "org", "guess")).status_code for _ in range(3)]
    assert again == [401, 401, 401]  # three more allowed, not one


async def test_the_login_page_says_when_to_try_again(limited: World, client: httpx.AsyncClient) -> None:
    for n in range(3):
        await _login(client, "org", f"guess-{n}")
    token = await csrf_of(client, "/web/login")

    page = await client.post("/web/login", data={"_csrf": token, "username": "org", "password": PASSWORD})

    assert page.status_code == 429
    assert int(page.headers["retry-after"]) == 15 * 60
    assert "登录失败次数过多，请15分钟后再试" in page.text
    assert "coord_session" not in page.headers.get("set-cookie", "")


async def test_the_password_is_checked_outside_the_event_loop(
    limited: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Argon2 takes ~100 ms of CPU: on the event loop it would stall every other request."""
    threads: list[threading.Thread] = []
    checked = security.verify_password

    def recording(password: str, password_hash: str) -> bool:
        threads.append(threading.current_thread())
        return checked(password, password_hash)

    monkeypatch.setattr(security, "verify_password", recording)
    assert (await _login(client, "org", PASSWORD)).status_code == 200
    assert (await _login(client, "org", "guess")).status_code == 401
    assert len(threads) == 2
    assert threading.main_thread() not in threads
