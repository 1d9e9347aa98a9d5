"""``coordinator admin password|disable``: an operator's way to end an account's logins."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from coordinator.app import create_app
from coordinator.cli import app as cli
from coordinator.settings import Settings
from tests.conftest import TEST_SECRET

runner = CliRunner()
FIRST, SECOND = "the first passphrase", "the second passphrase"


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COORDINATOR_DATABASE_URL", database_url)
    created = runner.invoke(cli, ["admin", "create", "--username", "boss", "--password", FIRST])
    assert created.exit_code == 0, created.output
    return database_url


async def _request(url: str, method: str, path: str, **options: Any) -> httpx.Response:
    settings = Settings(database_url=url, secret_key=TEST_SECRET, scheduler_enabled=False, log_json=False)
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            return await http.request(method, f"/api/v1{path}", **options)
    finally:
        await app.state.runtime.aclose()


def _login(url: str, password: str) -> httpx.Response:
    return asyncio.run(_request(url, "POST", "/auth/token", data={"username": "boss", "password": password}))


def _me(url: str, login: httpx.Response) -> httpx.Response:
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    return asyncio.run(_request(url, "GET", "/users/me", headers=headers))


def test_a_new_password_ends_every_earlier_login(url: str) -> None:
    before = _login(url, FIRST)
    assert _me(url, before).status_code == 200

    result = runner.invoke(cli, ["admin", "password", "--username", "boss", "--password", SECOND])

    assert result.exit_code == 0, result.output
    assert _me(url, before).json()["error"]["code"] == "session_ended"
    assert _login(url, FIRST).status_code == 401
    assert _me(url, _login(url, SECOND)).status_code == 200


def test_a_disabled_account_is_refused_at_once(url: str) -> None:
    before = _login(url, FIRST)

    result = runner.invoke(cli, ["admin", "disable", "--username", "boss"])

    assert result.exit_code == 0, result.output
    assert _me(url, before).json()["error"]["code"] == "account_disabled"
    assert _login(url, FIRST).status_code == 401


def test_an_unknown_username_changes_nothing(url: str) -> None:
    result = runner.invoke(cli, ["admin", "disable", "--username", "nobody"])
    assert result.exit_code == 1
    assert "user nobody not found" in result.output
    assert _login(url, FIRST).status_code == 200
