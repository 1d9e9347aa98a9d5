"""Sessions end on the server: logging out, a password change and a disabled account end the
session cookies and bearer tokens issued before; a token that never expires is refused."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from coordinator.auth.models import Role, User
from coordinator.auth.service import ACCESS_PURPOSE
from coordinator.db import transaction
from coordinator.security import sign
from coordinator.web.session import SESSION_COOKIE, SESSION_PURPOSE
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, auth_headers, create_user
from tests.web.browsing import log_in
from tests.world import World, error_code

pytestmark = pytest.mark.usefixtures("database_url")
ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def org(world: World) -> User:
    async with transaction(world.sessionmaker) as session:
        return await create_user(session, world.clock, Role.organizer, [world.station], username="org")


async def _disable(world: World, user: User) -> None:
    async with transaction(world.sessionmaker) as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))


async def test_a_copy_of_the_cookie_opens_nothing_after_logout(
    world: World, org: User, client: httpx.AsyncClient
) -> None:
    csrf = await log_in(client, "org")
    copied = client.cookies[SESSION_COOKIE]
    bearer = auth_headers(world.app, org)

    out = await client.post("/web/logout", data={"_csrf": csrf})
    assert out.status_code == 303

    client.cookies.set(SESSION_COOKIE, copied)
    page = await client.get("/web/calendar")
    assert (page.status_code, page.headers["location"]) == (303, "/web/login?next=%2Fweb%2Fcalendar")
    answer = await client.get(ME, headers=bearer)  # logging out ends the account's tokens too
    assert (answer.status_code, error_code(answer)) == (401, "session_ended")
    client.cookies.clear()
    await log_in(client, "org")  # a new login opens a new session
    assert (await client.get("/web/calendar")).status_code == 200


async def test_changing_the_password_ends_earlier_tokens_and_sessions(
    world: World, org: User, client: httpx.AsyncClient
) -> None:
    old = auth_headers(world.app, org)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=world.app), base_url="http://test")
    async with browser:
        await log_in(browser, "org")

        changed = await client.post(
            f"{ME}/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=old
        )

        assert changed.status_code == 200
        assert (await browser.get("/web/calendar")).status_code == 303
    refused = await client.get(ME, headers=old)
    assert (refused.status_code, error_code(refused)) == (401, "session_ended")
    new = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.get(ME, headers=new)).json()["username"] == "org"
    login = await client.post("/api/v1/auth/token", data={"username": "org", "password": NEW_PASSWORD})
    assert login.status_code == 200
    stale = await client.post("/api/v1/auth/token", data={"username": "org", "password": PASSWORD})
    assert stale.status_code == 401


async def test_a_password_change_needs_the_current_password(
    world: World, org: User, client: httpx.AsyncClient
) -> None:
    headers = auth_headers(world.app, org)
    wrong = await client.post(
        f"{ME}/password", json={"current_password": "guess", "new_password": NEW_PASSWORD}, headers=headers
    )
    assert (wrong.status_code, error_code(wrong)) == (422, "wrong_password")
    assert wrong.json()["error"]["field"] == "current_password"
    assert (await client.get(ME, headers=headers)).status_code == 200  # nothing ended
    body = {"current_password": "x", "new_password": NEW_PASSWORD}
    volunteer = await client.post(f"{ME}/password", json=body, headers=world.volunteer)
    assert (volunteer.status_code, error_code(volunteer)) == (403, "no_password")


async def test_a_disabled_account_is_refused_with_its_token_and_its_cookie(
    world: World, org: User, client: httpx.AsyncClient
) -> None:
    bearer = auth_headers(world.app, org)
    await log_in(client, "org")

    await _disable(world, org)

    answer = await client.get(ME, headers=bearer)
    assert (answer.status_code, error_code(answer)) == (401, "account_disabled")
    assert (await client.get("/web/calendar")).status_code == 303


def _signed(world: World, user: User, purpose: str, expires_in: timedelta | None) -> str:
    claims = {"sub": str(user.id), "ver": 0}
    return sign(TEST_SECRET, purpose, claims, now=world.clock.now(), expires_in=expires_in)


async def test_a_bearer_token_without_an_expiry_is_refused(
    world: World, org: User, client: httpx.AsyncClient
) -> None:
    """Signed with the right key but no ``exp``: it would never expire."""
    forever = _signed(world, org, ACCESS_PURPOSE, None)
    answer = await client.get(ME, headers={"Authorization": f"Bearer {forever}"})
    assert (answer.status_code, error_code(answer)) == (401, "invalid_token")
    expiring = _signed(world, org, ACCESS_PURPOSE, timedelta(hours=1))
    assert (await client.get(ME, headers={"Authorization": f"Bearer {expiring}"})).status_code == 200


async def test_a_session_cookie_without_an_expiry_opens_no_page(
    world: World, org: User, client: httpx.AsyncClient
) -> None:
    client.cookies.set(SESSION_COOKIE, _signed(world, org, SESSION_PURPOSE, None))
    assert (await client.get("/web/calendar")).status_code == 303
    client.cookies.set(SESSION_COOKIE, _signed(world, org, SESSION_PURPOSE, timedelta(hours=1)))
    assert (await client.get("/web/calendar")).status_code == 200
